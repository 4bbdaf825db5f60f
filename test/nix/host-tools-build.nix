# Builds nix/package.nix (and its fixed-output npm dependencies) with Nix itself, the host's tools standing
# in for nixpkgs (stand-in/host-pkgs.nix): bash, node and npm, python3, pkg-config and libsecret from /usr.
# Only for an unsandboxed Nix that may write its store and reach the npm registry (package-build.test.ts).
# nix-build test/nix/host-tools-build.nix --arg libPath … --argstr caBundle /etc/ssl/certs/ca-certificates.crt [-A nodeModules]
{
  libPath,
  caBundle,
  system ? builtins.currentSystem,
}:
let
  pkgs = import ./stand-in/host-pkgs.nix {
    lib = import (libPath + "/lib");
    inherit system caBundle;
  };
in
pkgs.callPackage ../../nix/package.nix { }
