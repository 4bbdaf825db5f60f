# Stand-in for nixpkgs' meta module (Home Manager imports it from pkgs.path): accepts any `meta` definitions.
{ lib, ... }:
{
  options.meta = lib.mkOption {
    type = lib.types.attrsOf lib.types.anything;
    default = { };
    description = "Module metadata (maintainers, documentation).";
  };
}
