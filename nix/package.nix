# The with-secrets package: the bundled CLI on Node ≥ 22.15 (so the launcher replaces itself with the
# program via execve), keytar built against libsecret on Linux, the shell snippets and completions.
{
  lib,
  stdenv,
  callPackage,
  nodejs_22,
  python3,
  pkg-config,
  libsecret,
  nodejs ? nodejs_22,
  # The hash of the npm dependencies (nix/npm-deps.nix); default: this system's entry in npm-deps-hashes.json.
  npmDepsHash ? null,
}:
let
  packageJson = lib.importJSON ../package.json;

  # Per-system, written by scripts/npm-deps-hashes.sh (see the README). "" makes Nix print the right one.
  hashes = (lib.importJSON ./npm-deps-hashes.json).hashes;
  depsHash = if npmDepsHash != null then npmDepsHash else hashes.${stdenv.hostPlatform.system} or "";

  root = toString ../.;
  # Only what the build reads (builtins.path with a filter: works with every Nix that has flakes).
  sourceOf =
    name: files: dirs:
    lib.cleanSourceWith {
      inherit name;
      src = ../.;
      filter =
        path: type:
        let
          rel = lib.removePrefix "${root}/" (toString path);
        in
        builtins.elem rel files
        || lib.any (d: rel == d || lib.hasPrefix "${d}/" rel) dirs
        || (type == "directory" && lib.any (f: lib.hasPrefix "${rel}/" f) files);
    };

  src = sourceOf "with-secrets-source" [ "package.json" "package-lock.json" "tsconfig.json" "scripts/build.mjs" ] [
    "src"
    "shell"
    "hm-module"
  ];

  # The lockfile alone, so the dependency hash changes only when the dependencies do.
  lockSrc = sourceOf "with-secrets-lockfile" [ "package.json" "package-lock.json" ] [ ];

  nodeModules = callPackage ./npm-deps.nix {
    inherit nodejs;
    src = lockSrc;
    inherit (packageJson) version;
    hash = depsHash;
  };
in
assert lib.assertMsg (lib.versionAtLeast nodejs.version "22.15") "with-secrets needs Node >= 22.15 (process.execve); got ${nodejs.version}";
stdenv.mkDerivation {
  pname = "with-secrets";
  inherit (packageJson) version;
  inherit src;

  nativeBuildInputs = [ nodejs python3 ] ++ lib.optionals stdenv.hostPlatform.isLinux [ pkg-config ];
  buildInputs = lib.optionals stdenv.hostPlatform.isLinux [ libsecret ];

  passthru = { inherit nodeModules nodejs; };

  configurePhase = ''
    runHook preConfigure
    export HOME="$TMPDIR"
    cp -r ${nodeModules}/node_modules node_modules
    chmod -R u+w node_modules
    patchShebangs node_modules
    runHook postConfigure
  '';

  buildPhase = ''
    runHook preBuild
    # keytar: compile from source against libsecret (found by pkg-config) and this Node's own headers;
    # nothing is downloaded (no prebuilt binary, no headers tarball).
    npm_config_nodedir=${nodejs} npm_config_build_from_source=true \
      npm rebuild keytar --offline --foreground-scripts
    npm run build
    runHook postBuild
  '';

  installPhase = ''
    runHook preInstall
    lib=$out/lib/node_modules/with-secrets
    mkdir -p "$lib/dist" "$lib/node_modules/keytar/build/Release" "$out/bin" "$out/share/with-secrets"
    # What the program runs: the bin and its bundles (yaml, age-encryption and commander are in dist/vendor),
    # the shell snippets it prints, and keytar, the one package it loads at run time. Of keytar only its
    # JavaScript and the compiled addon: its build tree (Makefiles, .deps) names the compiler, python and the
    # -dev headers, which would otherwise all become run-time references of the package.
    cp -r dist/with-secrets.js dist/with-secrets-main.cjs dist/with-secrets-launch.cjs dist/package.json dist/vendor "$lib/dist/"
    cp -r shell hm-module package.json "$lib/"
    cp -r node_modules/keytar/package.json node_modules/keytar/lib "$lib/node_modules/keytar/"
    cp node_modules/keytar/build/Release/keytar.node "$lib/node_modules/keytar/build/Release/"
    ln -s "$lib/dist/with-secrets.js" "$out/bin/with-secrets"
    ln -s "$lib/shell" "$out/share/with-secrets/shell"
    runHook postInstall
  '';

  postFixup = ''
    # Completions, printed by the program itself from shell/ (the single source).
    mkdir -p "$out/share/bash-completion/completions" "$out/share/zsh/site-functions" "$out/share/fish/vendor_completions.d"
    "$out/bin/with-secrets" completion bash > "$out/share/bash-completion/completions/with-secrets"
    "$out/bin/with-secrets" completion zsh > "$out/share/zsh/site-functions/_with-secrets"
    "$out/bin/with-secrets" completion fish > "$out/share/fish/vendor_completions.d/with-secrets.fish"
  '';

  doInstallCheck = true;
  installCheckPhase = ''
    runHook preInstallCheck
    "$out/bin/with-secrets" --version
    "$out/bin/with-secrets" shell-init bash > /dev/null
    runHook postInstallCheck
  '';

  meta = {
    description = packageJson.description;
    license = lib.licenses.mit;
    mainProgram = "with-secrets";
    platforms = lib.platforms.linux ++ lib.platforms.darwin;
  };
}
