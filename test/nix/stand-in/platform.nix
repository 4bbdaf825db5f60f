# The platform attributes of a nixpkgs set for `system`, shared by the stand-ins (pkgs.nix, host-pkgs.nix,
# ../host-tools-build.nix).
system:
let
  hostPlatform = {
    inherit system;
    isLinux = builtins.match ".*-linux" system != null;
    isDarwin = builtins.match ".*-darwin" system != null;
  };
in
{
  inherit system hostPlatform;
  buildPlatform = hostPlatform;
  stdenv = {
    inherit hostPlatform;
    inherit (hostPlatform) isLinux isDarwin;
  };
}
