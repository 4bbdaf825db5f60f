# A stand-in for the part of nixpkgs that with-secrets' package and a Home Manager generation are built
# from, made of the host's own tools (/usr) and real derivations built by an unsandboxed Nix: the trivial
# builders (runCommand, writeTextFile and friends, buildEnv, symlinkJoin, linkFarm), a stdenv.mkDerivation
# that runs a package's phases, and the programs the package's build, Home Manager's activation script and
# its shell modules name. `path` stands for nixpkgs' source tree, as in pkgs.nix (Home Manager reads it).
{
  lib,
  system,
  path ? null,
  # What stands in for nixpkgs' CA bundle (the npm dependencies are fetched with it).
  caBundle ? "/etc/ssl/certs/ca-certificates.crt",
}:
let
  # Derivation attributes must be strings, numbers, booleans, paths, derivations or lists of them.
  plainEnv = env: lib.filterAttrs (_: v: !(lib.isAttrs v) || lib.isDerivation v) (removeAttrs env [ "passthru" "meta" ]);
  # What stdenv's setup gives a build script, as far as Home Manager's builders use it.
  prelude = ''
    set -eo pipefail
    runHook() { :; }
    substituteInPlace() {
      local file="$1" text; shift
      text=$(cat "$file"; printf x); text=''${text%x}
      while (( $# > 0 )); do
        case "$1" in
          --subst-var-by) text=''${text//"@$2@"/"$3"}; shift 3 ;;
          --replace|--replace-fail|--replace-quiet) text=''${text//"$2"/"$3"}; shift 3 ;;
          *) echo "substituteInPlace stand-in: $1 is not supported" >&2; return 1 ;;
        esac
      done
      printf '%s' "$text" > "$file"
    }
  '';
  runCommand =
    name: env: script:
    derivation (
      plainEnv env
      // {
        inherit name system;
        builder = "/bin/bash";
        args = [
          "-c"
          ''
            export PATH=${lib.makeBinPath (env.nativeBuildInputs or [ ] ++ env.buildInputs or [ ])}:/usr/bin:/bin
            ${prelude}
            ${script}
          ''
        ];
      }
    )
    // (env.passthru or { })
    // {
      meta = env.meta or { };
    };
  # stdenv.mkDerivation as nix/package.nix and nix/npm-deps.nix use it: their phases, in order, in a
  # writable copy of the source.
  mkDerivation =
    args:
    runCommand "${args.pname}-${args.version}" (args // { src = "${args.src}"; }) ''
      patchShebangs() { :; }
      cp -r "$src" source && chmod -R u+w source && cd source
      ${lib.concatMapStrings (phase: "${args.${phase} or ""}\n") [ "configurePhase" "buildPhase" "installPhase" "postFixup" ]}
      ${lib.optionalString (args.doInstallCheck or false) args.installCheckPhase}
    '';
  writeTextFile =
    {
      name,
      text,
      executable ? false,
      destination ? "",
      checkPhase ? "",
      meta ? { },
      ...
    }:
    runCommand name
      {
        inherit text meta;
        passAsFile = [ "text" ];
      }
      ''
        target="$out"${lib.escapeShellArg destination}
        mkdir -p "$(dirname "$target")"
        cp "$textPath" "$target"
        ${lib.optionalString executable ''chmod +x "$target"''}
        ${checkPhase}
      '';
  shellScript = text: "#!/bin/bash\n${text}";
  # Symlinks to every file of `paths`, merged into one tree.
  mergeTrees =
    {
      name,
      paths,
      postBuild ? "",
      meta ? { },
      ...
    }:
    runCommand name { inherit meta; } ''
      mkdir -p "$out"
      for p in ${lib.escapeShellArgs (map toString paths)}; do
        [ -d "$p" ] || continue
        (cd "$p" && find . -mindepth 1 -type d -exec mkdir -p "$out/{}" \; && find . -mindepth 1 ! -type d -exec ln -sfn "$p/{}" "$out/{}" \;)
      done
      ${postBuild}
    '';
  # A host tool on PATH (not installed into a profile): its store path is /usr.
  hostTool = name: {
    type = "derivation";
    inherit name;
    pname = name;
    version = "host";
    outPath = "/usr";
    drvPath = "/usr";
    outputs = [ "out" ];
    meta.mainProgram = name;
  };
  # A host program that can be installed into a profile: a derivation with bin/ links to /usr/bin.
  hostProgram =
    name: bins:
    runCommand name { meta.mainProgram = name; } ''
      mkdir -p "$out/bin"
      for b in ${lib.escapeShellArgs bins}; do ln -s "/usr/bin/$b" "$out/bin/$b"; done
    ''
    // {
      pname = name;
      version = "host";
    };
  format = _: {
    type = lib.types.anything;
    generate = name: value: writeTextFile {
      inherit name;
      text = builtins.toJSON value;
    };
  };
  platform = import ./platform.nix system;
  self = platform // {
    inherit lib path;
    stdenv = platform.stdenv // {
      inherit mkDerivation;
      shellDryRun = "/bin/bash -n -O extglob";
    };
    stdenvNoCC = self.stdenv;
    callPackage = lib.callPackageWith self;
    cacert = runCommand "host-cacert" { } ''
      mkdir -p "$out/etc/ssl/certs"
      cp ${lib.escapeShellArg caBundle} "$out/etc/ssl/certs/ca-bundle.crt"
    '';
    # The host's Node stands in for nodejs_22 (the package refuses an older version; its build runs on any).
    nodejs_22 = hostTool "nodejs" // {
      version = "22.16.0";
    };
    buildPackages = self;
    pkgsBuildHost = self;
    runtimeShell = "/bin/bash";
    formats = lib.genAttrs [ "json" "yaml" "toml" "ini" "keyValue" ] (_: format);
    inherit runCommand writeTextFile;
    runCommandLocal = runCommand;
    writeText = name: text: writeTextFile { inherit name text; };
    writeTextDir =
      p: text:
      writeTextFile {
        name = baseNameOf p;
        inherit text;
        destination = "/${p}";
      };
    writeScript =
      name: text:
      writeTextFile {
        inherit name text;
        executable = true;
      };
    writeShellScript =
      name: text:
      writeTextFile {
        inherit name;
        text = shellScript text;
        executable = true;
      };
    writeShellScriptBin =
      name: text:
      writeTextFile {
        inherit name;
        text = shellScript text;
        executable = true;
        destination = "/bin/${name}";
        meta.mainProgram = name;
      };
    # @name@ in `src` replaced by each non-null value of `vars`.
    replaceVars =
      src: vars:
      let
        set = lib.filterAttrs (_: v: v != null) vars;
      in
      runCommand (baseNameOf (toString src)) { } ''
        cp ${src} "$out"
        chmod u+w "$out"
        ${lib.concatStrings (lib.mapAttrsToList (n: v: ''
          substituteInPlace "$out" --subst-var-by ${lib.escapeShellArg n} ${lib.escapeShellArg (toString v)}
        '') set)}
      '';
    symlinkJoin = mergeTrees;
    buildEnv = mergeTrees;
    linkFarm =
      name: entries:
      let
        list = if lib.isList entries then entries else lib.mapAttrsToList (n: p: { name = n; path = p; }) entries;
      in
      runCommand name { } (
        "mkdir -p $out\n"
        + lib.concatMapStrings (e: ''
          mkdir -p "$(dirname "$out/${e.name}")"
          ln -s ${toString e.path} "$out/${e.name}"
        '') list
      );
    # lndir (xorg): mirror a tree as symlinks into an existing one.
    lndir = runCommand "lndir" { } ''
      mkdir -p "$out/bin"
      cat > "$out/bin/lndir" <<'EOF'
      #!/bin/bash
      set -eu
      while [[ "$1" == -* ]]; do shift; done
      src=$(cd "$1" && pwd) dst=$2
      cd "$src"
      find . -mindepth 1 -type d -exec mkdir -p "$dst/{}" \;
      find . -mindepth 1 ! -type d -exec ln -sfn "$src/{}" "$dst/{}" \;
      EOF
      chmod +x "$out/bin/lndir"
    '';
    # babelfish (bash to fish): enough for hm-session-vars.sh's plain `export NAME="value"` lines.
    babelfish = runCommand "babelfish" { } ''
      mkdir -p "$out/bin"
      cat > "$out/bin/babelfish" <<'EOF'
      #!/bin/bash
      sed -n 's/^export \([A-Za-z_][A-Za-z0-9_]*\)=\(.*\)$/set -gx \1 \2/p'
      EOF
      chmod +x "$out/bin/babelfish"
    '';
    emptyDirectory = runCommand "empty-directory" { } "mkdir $out";
    bashInteractive = hostProgram "bash" [ "bash" ];
    zsh = hostProgram "zsh" [ "zsh" ];
    fish = hostProgram "fish" [ "fish" ];
    nix-zsh-completions = runCommand "nix-zsh-completions" { } "mkdir -p $out/share";
    bash-completion = runCommand "bash-completion" { } ''
      mkdir -p "$out/etc/profile.d"
      echo '[ -r /usr/share/bash-completion/bash_completion ] && . /usr/share/bash-completion/bash_completion' > "$out/etc/profile.d/bash_completion.sh"
    '';
  }
  // lib.genAttrs [
    "bash"
    "coreutils"
    "diffutils"
    "findutils"
    "gettext"
    "gnugrep"
    "gnused"
    "jq"
    "ncurses"
    "nix"
    "python3"
    "pkg-config"
    "libsecret"
    "man"
    "glibcLocales"
    "shared-mime-info"
    "sd-switch"
    "systemd"
  ] hostTool;
in
self
