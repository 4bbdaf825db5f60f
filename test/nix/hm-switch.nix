# A whole Home Manager generation with programs.with-secrets, built by an unsandboxed Nix from real Home
# Manager, nixpkgs' lib and the host's tools standing in for nixpkgs (stand-in/host-pkgs.nix), with the
# package built from them too. The module comes from the flake's homeManagerModules.default.
# nix-build test/nix/hm-switch.nix --arg hmPath … --arg libPath … --arg pkgsPath … --argstr caBundle … \
#   --argstr home … --argstr user … --argstr sopsFile … --argstr keyFile … --argstr canary … [--arg strict true]
{
  hmPath,
  libPath,
  pkgsPath,
  caBundle,
  home,
  user,
  sopsFile,
  keyFile,
  # What the stand-in `codex` expects to find in OPENAI_API_KEY (it prints only whether it did).
  canary,
  # programs.with-secrets.validation.strict: a failed check stops activation.
  strict ? false,
}:
let
  system = builtins.currentSystem;
  lib = import (libPath + "/lib");
  pkgs = import ./stand-in/host-pkgs.nix {
    inherit lib system caBundle;
    path = pkgsPath;
  };
  with-secrets = pkgs.callPackage ../../nix/package.nix { };
  flake = (import ../../flake.nix).outputs {
    self = flake;
    nixpkgs = {
      inherit lib;
      legacyPackages.${system} = pkgs // {
        inherit with-secrets;
      };
    };
  };
  # A program the user has installed, which wants its token.
  codex = pkgs.writeShellScriptBin "codex" ''
    if [ "''${OPENAI_API_KEY-}" = ${lib.escapeShellArg canary} ]; then echo "codex: has its token"; else echo "codex: no token"; exit 3; fi
  '';
  # A program named by its store path, behind a PATH shim (`wrapper = true`), so scripts get the token too.
  gh = pkgs.writeShellScriptBin "gh" ''
    if [ "''${GITHUB_TOKEN-}" = ${lib.escapeShellArg "${canary}-gh"} ]; then echo "gh: has its token"; else echo "gh: no token"; exit 3; fi
  '';
  hm = import ./eval-hm.nix {
    inherit hmPath lib pkgs;
    modules = [
      flake.homeManagerModules.default
      {
        home.username = user;
        home.homeDirectory = home;
        home.stateVersion = "25.05";
        home.packages = [ codex ];
        manual.manpages.enable = false;
        manual.html.enable = false;
        manual.json.enable = false;
        programs.man.enable = false;
        news.display = "silent";
        # The host has no shared-mime-info or desktop-file-utils for the stand-in to offer.
        xdg.mime.enable = false;
        programs.bash.enable = true;
        programs.zsh.enable = true;
        programs.fish.enable = true;
        # Completions made from every package's man pages: unrelated here, and slow.
        programs.fish.generateCompletions = false;
        programs.with-secrets = {
          enable = true;
          package = with-secrets;
          inherit sopsFile;
          ageKeyFile = keyFile;
          validation.strict = strict;
          # What the issue's user writes.
          profiles.codex.env.OPENAI_API_KEY = "openai.api_key";
          profiles.gh = {
            command = "${gh}/bin/gh";
            wrapper = true;
            env.GITHUB_TOKEN = "github.token";
          };
          # A profile whose secret is not in the file: activation names it.
          profiles.broken.env.MISSING_TOKEN = "nowhere.to_be_found";
        };
      }
    ];
  };
in
if hm.failedAssertions != [ ] then
  throw "Home Manager assertions failed: ${builtins.toJSON hm.failedAssertions}"
else
  hm.config.home.activationPackage
