# with-secrets as a flake: the package, an overlay, the Home Manager module and checks.
{
  description = "Start a program with secrets decrypted from SOPS+age files at launch, in its environment only";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # The module, with this flake's package as the default of programs.with-secrets.package.
      homeModule =
        { lib, pkgs, ... }:
        {
          imports = [ ./hm-module ];
          programs.with-secrets.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        };
    in
    {
      overlays.default = final: _prev: { with-secrets = final.callPackage ./nix/package.nix { }; };

      packages = forAllSystems (pkgs: rec {
        with-secrets = pkgs.callPackage ./nix/package.nix { };
        default = with-secrets;
      });

      homeManagerModules.default = homeModule;
      homeModules.default = homeModule;

      checks = forAllSystems (pkgs: {
        package = self.packages.${pkgs.stdenv.hostPlatform.system}.default;

        # The module's pure parts (config, aliases, shims, activation text), evaluated here.
        module-pure =
          let
            failures = import ./test/nix/pure-tests.nix;
          in
          pkgs.runCommand "with-secrets-module-pure" { } (
            if failures == [ ] then "touch $out" else throw "module tests failed: ${builtins.toJSON failures}"
          );

        # The shell snippets: syntax in each shell, shellcheck on the bash one.
        shell-snippets =
          pkgs.runCommand "with-secrets-shell-snippets"
            {
              nativeBuildInputs = [
                pkgs.bash
                pkgs.zsh
                pkgs.fish
                pkgs.shellcheck
              ];
            }
            ''
              bash -n ${./shell/with-secrets.bash}
              shellcheck -s bash ${./shell/with-secrets.bash}
              zsh -n ${./shell/with-secrets.zsh}
              HOME=$TMPDIR fish --no-execute ${./shell/with-secrets.fish}
              touch $out
            '';
      });
    };
}
