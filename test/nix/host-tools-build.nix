# Builds nix/package.nix (and its fixed-output npm dependencies) with Nix itself, the host's tools standing
# in for nixpkgs: bash, node and npm, python3, pkg-config and libsecret from /usr. Only for an unsandboxed
# Nix that may write its store and reach the npm registry (test/nix/package-build.test.ts says how).
# nix-build test/nix/host-tools-build.nix --arg libPath … --argstr caBundle /etc/ssl/certs/ca-certificates.crt [-A nodeModules]
{
  libPath,
  caBundle,
  system ? builtins.currentSystem,
}:
let
  lib = import (libPath + "/lib");
  # What package.nix and npm-deps.nix use of stdenv: their phases, run in order by bash.
  phaseNames = [ "configurePhase" "buildPhase" "installPhase" "postFixup" ];
  mkDerivation =
    args:
    let
      script = lib.concatStringsSep "\n" (
        map (p: args.${p} or "") phaseNames ++ lib.optional (args.doInstallCheck or false) args.installCheckPhase
      );
      drv = derivation (
        {
          name = "${args.pname}-${args.version}";
          inherit system;
          builder = "/bin/bash";
          args = [
            "-c"
            ''
              set -euo pipefail
              export PATH=/usr/bin:/bin
              runHook() { :; }
              patchShebangs() { :; }
              cp -r "$src" source && chmod -R u+w source && cd source
              ${script}
            ''
          ];
          inherit (args) src;
        }
        // lib.optionalAttrs (args ? outputHash) {
          inherit (args) impureEnvVars outputHashMode outputHash;
        }
        // lib.optionalAttrs ((args.outputHashAlgo or null) != null) { inherit (args) outputHashAlgo; }
      );
    in
    drv // (args.passthru or { }) // { meta = args.meta or { }; };
  stdenv = (import ./stand-in/platform.nix system).stdenv // {
    inherit mkDerivation;
  };
  host = name: {
    inherit name;
    outPath = "/usr";
  };
  cacert = derivation {
    name = "host-cacert";
    inherit system;
    builder = "/bin/sh";
    args = [
      "-c"
      "/bin/mkdir -p $out/etc/ssl/certs && /bin/cp ${caBundle} $out/etc/ssl/certs/ca-bundle.crt"
    ];
  };
  pkgs = {
    inherit lib stdenv cacert;
    stdenvNoCC = stdenv;
    # The host's Node stands in for nodejs_22 (the package refuses an older version; the build itself runs on any).
    nodejs_22 = host "nodejs" // {
      version = "22.16.0";
    };
    python3 = host "python3";
    pkg-config = host "pkg-config";
    libsecret = host "libsecret";
    callPackage = lib.callPackageWith pkgs;
  };
in
pkgs.callPackage ../../nix/package.nix { }
