# The npm dependencies as a fixed-output derivation: npm's own client installs the exact tarballs the
# lockfile pins (checked against their `integrity`) from its default registry. nixpkgs' npm fetchers cannot
# be used: they skip lockfile-v3 entries without a `resolved` URL, and this lockfile has none. The output is
# the installed node_modules tree with no install script run (those run offline in the package build), which
# is reproducible, unlike npm's cache whose index records fetch times. It holds the platform's own optional
# packages (esbuild's binary), so its hash is per system: see `hashes` in package.nix. What differs between
# npm versions for the same lockfile is left out: npm's hidden lockfile (node_modules/.package-lock.json) and
# empty directories (npm 10 leaves the scope folders of skipped optional packages, npm 11 removes them).
# scripts/npm-deps-hashes.sh computes the same tree and hash outside Nix; keep the two in step.
{
  lib,
  stdenvNoCC,
  nodejs,
  cacert,
  src,
  version,
  hash,
}:
stdenvNoCC.mkDerivation {
  pname = "with-secrets-node-modules";
  inherit src version;

  nativeBuildInputs = [ nodejs ];

  dontConfigure = true;
  dontFixup = true;

  buildPhase = ''
    runHook preBuild
    export HOME="$TMPDIR"
    export npm_config_cache="$TMPDIR/npm-cache"
    export npm_config_cafile=${cacert}/etc/ssl/certs/ca-bundle.crt
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=warn --include=dev --include=optional --install-strategy=hoisted
    runHook postBuild
  '';

  installPhase = ''
    runHook preInstall
    mkdir -p "$out"
    cp -r node_modules "$out/node_modules"
    rm -f "$out/node_modules/.package-lock.json"
    find "$out/node_modules" -type d -empty -delete
    runHook postInstall
  '';

  impureEnvVars = lib.fetchers.proxyImpureEnvVars ++ [ "NIX_NPM_REGISTRY" ];

  outputHashMode = "recursive";
  outputHashAlgo = if hash == "" then "sha256" else null;
  outputHash = hash;
}
