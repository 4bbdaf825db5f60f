# Home Manager evaluated as its modules/default.nix does it, minus the assertion check (callers report the
# failures): its core modules with the stand-in `pkgs`, the fish and man modules, and `modules`.
{
  hmPath,
  lib,
  pkgs,
  modules,
}:
let
  hmLib = import (hmPath + "/modules/lib/stdlib-extended.nix") lib;
  hm = hmLib.evalModules {
    class = "homeManager";
    specialArgs.modulesPath = toString (hmPath + "/modules");
    modules =
      import (hmPath + "/modules/modules.nix") {
        inherit pkgs;
        lib = hmLib;
        minimal = true;
      }
      ++ [
        (hmPath + "/modules/programs/fish.nix")
        (hmPath + "/modules/programs/man")
        # The stand-in, not an import of pkgs.path (Home Manager's nixpkgs module would import it as nixpkgs).
        { _module.args.pkgs = lib.mkForce pkgs; }
      ]
      ++ modules;
  };
in
{
  # Home Manager's lib (with lib.hm: the activation DAG and the rest).
  lib = hmLib;
  inherit (hm) config;
  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) hm.config.assertions);
}
