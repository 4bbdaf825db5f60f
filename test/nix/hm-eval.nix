# Evaluates programs.with-secrets inside real Home Manager (its core modules and the bash, zsh and fish
# modules) with nixpkgs' lib and the stand-in pkgs; returns what the tests look at, as JSON-able values.
# nix-instantiate --eval --strict --json test/nix/hm-eval.nix --arg hmPath … --arg libPath … --arg pkgsPath … --arg configuration …
# pkgsPath: a folder holding libPath's lib/ and stand-in/nixos/ (the test links them), as Home Manager reads both from pkgs.path.
{
  hmPath,
  libPath,
  pkgsPath,
  configuration,
}:
let
  lib = import (libPath + "/lib");
  pkgs = import ./stand-in/pkgs.nix {
    inherit lib;
    path = pkgsPath;
  };
  hm = import ./eval-hm.nix {
    inherit hmPath lib pkgs;
    modules = [
      ../../hm-module
      configuration
      {
        home.username = "alice";
        home.homeDirectory = "/home/alice";
        home.stateVersion = "25.05";
      }
    ];
  };
  inherit (hm) config failedAssertions;
  sorted = hm.lib.hm.dag.topoSort config.home.activation;
  names = map (e: e.name) sorted.result;
  indexOf = n: lib.lists.findFirstIndex (x: x == n) null names;
in
{
  inherit failedAssertions;
  configText = config.xdg.configFile."with-secrets/config.yaml".text or null;
  bashInit = config.programs.bash.initExtra;
  zshInit = config.programs.zsh.initContent or config.programs.zsh.initExtra;
  fishInit = config.programs.fish.interactiveShellInit;
  packages = map (p: {
    name = p.name;
    text = p.text or null;
    destination = p.destination or null;
    priority = p.meta.priority or null;
  }) config.home.packages;
  activation = config.home.activation.with-secrets-check.data or null;
  activationAfter = config.home.activation.with-secrets-check.after or null;
  order = {
    check = indexOf "with-secrets-check";
    linkGeneration = indexOf "linkGeneration";
    installPackages = indexOf "installPackages";
  };
  activationScript = lib.concatMapStringsSep "\n" (e: e.data) sorted.result;
}
