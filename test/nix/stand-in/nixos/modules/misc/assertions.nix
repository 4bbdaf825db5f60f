# Stand-in for nixpkgs' assertions module (Home Manager imports it from pkgs.path): the two options only.
{ lib, ... }:
{
  options = {
    assertions = lib.mkOption {
      type = lib.types.listOf lib.types.unspecified;
      default = [ ];
      description = "Conditions that must hold, with a message when they do not.";
    };
    warnings = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      description = "Messages shown when the configuration is built.";
    };
  };
}
