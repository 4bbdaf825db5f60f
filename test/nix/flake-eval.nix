# Evaluates flake.nix's outputs with nixpkgs' lib and the stand-in pkgs (no nixpkgs, no build): what the
# package derivation and the fixed-output npm dependencies would be given, and the overlay and module shapes.
# nix-instantiate --eval --strict --json test/nix/flake-eval.nix --arg libPath … --arg pkgsPath … [--arg nodeVersion '"22.16.0"']
{
  libPath,
  pkgsPath,
  nodeVersion ? "22.16.0",
}:
let
  lib = import (libPath + "/lib");
  base = import ./stand-in/pkgs.nix {
    inherit lib;
    path = pkgsPath;
  };
  # What package.nix and npm-deps.nix use of nixpkgs: mkDerivation records its arguments.
  mkDerivation =
    args:
    {
      type = "derivation";
      name = "${args.pname}-${args.version}";
      outPath = "${builtins.storeDir}/00000000000000000000000000000000-${args.pname}-${args.version}";
      inherit args;
    }
    // (args.passthru or { })
    // {
      meta = args.meta or { };
    };
  pkgs = base // {
    callPackage = lib.callPackageWith pkgs;
    stdenv = base.stdenv // {
      inherit mkDerivation;
    };
    stdenvNoCC = base.stdenv // {
      inherit mkDerivation;
    };
    nodejs_22 = base.bash // {
      name = "nodejs-${nodeVersion}";
      version = nodeVersion;
    };
    python3 = base.bash // {
      name = "python3";
    };
    pkg-config = base.bash // {
      name = "pkg-config";
    };
    libsecret = base.bash // {
      name = "libsecret";
    };
    cacert = base.bash // {
      name = "cacert";
    };
  };
  flake = import ../../flake.nix;
  outputs = flake.outputs {
    self = outputs;
    nixpkgs = {
      inherit lib;
      legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ] (_: pkgs);
    };
  };
  pkg = outputs.packages.x86_64-linux.default;
  probe = [ "package.json" "package-lock.json" "tsconfig.json" "scripts/build.mjs" "scripts/test-all.sh" "src/cli/main.ts" "shell/with-secrets.fish" "hm-module/lib.nix" "test/nix/nix.test.ts" "node_modules/yaml/package.json" "dist/with-secrets.js" "flake.nix" ];
  keeps = src: lib.filter (rel: src.filter "${toString ../..}/${rel}" "regular") probe;
  deps = pkg.nodeModules;
in
{
  inherit (flake) description;
  systems = builtins.attrNames outputs.packages;
  name = pkg.name;
  mainProgram = pkg.meta.mainProgram;
  buildPhase = pkg.args.buildPhase;
  installPhase = pkg.args.installPhase;
  postFixup = pkg.args.postFixup;
  # Which repository files each source keeps (their filters, asked without copying anything).
  srcKeeps = keeps pkg.args.src;
  lockKeeps = keeps deps.args.src;
  deps = {
    name = deps.name;
    outputHashMode = deps.args.outputHashMode;
    outputHash = deps.args.outputHash;
    outputHashAlgo = deps.args.outputHashAlgo;
    buildPhase = deps.args.buildPhase;
    installPhase = deps.args.installPhase;
  };
  overlayGives = (outputs.overlays.default pkgs pkgs).with-secrets.name;
  moduleIsFunction = builtins.isFunction outputs.homeManagerModules.default;
  homeModulesIsFunction = builtins.isFunction outputs.homeModules.default;
  checks = builtins.attrNames outputs.checks.x86_64-linux;
}
