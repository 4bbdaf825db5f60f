# A small stand-in for nixpkgs, enough to evaluate Home Manager's core modules and programs.with-secrets
# without nixpkgs (which is too large to fetch here). Derivations are attribute sets with a fake store path.
# `path` stands for nixpkgs' source tree: a folder with nixpkgs.lib's lib/ and this folder's nixos/.
{
  lib,
  path,
  system ? "x86_64-linux",
}:
let
  platform = import ./platform.nix system;
  fakeDrv =
    name: attrs:
    {
      type = "derivation";
      inherit name;
      pname = name;
      version = "0";
      outPath = "${builtins.storeDir}/${builtins.substring 0 32 (builtins.hashString "sha256" name)}-${name}";
      drvPath = "${builtins.storeDir}/${builtins.substring 0 32 (builtins.hashString "sha1" name)}-${name}.drv";
      meta = { };
      outputs = [ "out" ];
      passthru = { };
    }
    // attrs;
  pkg = name: fakeDrv name { meta.mainProgram = name; };
  # Spelled out with `lib.types.`: this file's `path` argument would shadow `path` under `with lib.types`.
  jsonValue =
    let
      t = lib.types;
      valueType =
        t.nullOr (t.oneOf [
          t.bool
          t.int
          t.float
          t.str
          t.path
          (t.attrsOf valueType)
          (t.listOf valueType)
        ])
        // {
          description = "JSON value";
        };
    in
    valueType;
  format = _: {
    type = jsonValue;
    generate = name: value: fakeDrv name { passthru.value = value; };
  };
  self = platform // {
    inherit lib path;
    buildPackages = self;
    pkgsBuildHost = self;
    runtimeShell = "${self.bash}/bin/bash";
    formats = {
      json = format;
      yaml = format;
      toml = format;
      ini = format;
      keyValue = format;
    };
    writeTextFile =
      {
        name,
        text,
        destination ? "",
        executable ? false,
        ...
      }:
      fakeDrv name { inherit text destination executable; };
    writeText = name: text: fakeDrv name { inherit text; };
    writeTextDir = path: text: fakeDrv (baseNameOf path) { inherit text; };
    writeShellScript = name: text: fakeDrv name { inherit text; };
    writeShellScriptBin = name: text: fakeDrv name { inherit text; meta.mainProgram = name; };
    runCommand = name: _env: script: fakeDrv name { inherit script; };
    runCommandLocal = self.runCommand;
    symlinkJoin = { name, paths, ... }: fakeDrv name { inherit paths; };
    buildEnv = { name, paths, ... }: fakeDrv name { inherit paths; };
    linkFarm = name: entries: fakeDrv name { inherit entries; };
    replaceVars = src: vars: fakeDrv (baseNameOf src) { inherit vars; };
  }
  // lib.genAttrs [
    "bash"
    "bashInteractive"
    "coreutils"
    "diffutils"
    "findutils"
    "gettext"
    "gnugrep"
    "gnused"
    "jq"
    "ncurses"
    "nix"
    "zsh"
    "fish"
    "with-secrets"
    "codex"
    "gh"
    "nix-zsh-completions"
    "shared-mime-info"
    "bash-completion"
    "sd-switch"
    "emptyDirectory"
    "systemd"
    "man"
    "glibcLocales"
  ] pkg;
in
self
