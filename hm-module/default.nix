# Home Manager module `programs.with-secrets`: installs with-secrets, writes its config, adds aliases,
# completions and optional PATH shims, and checks at activation that every profile's secrets open.
{
  config,
  lib,
  options,
  pkgs,
  ...
}:
let
  cfg = config.programs.with-secrets;
  pure = import ./lib.nix;

  # A string or a path: SOPS and age files are encrypted, so a path (copied to the store) is allowed for them.
  fileType = lib.types.either lib.types.str lib.types.path;

  # A secret reference, as in the config: a key path in sopsFile, or { sops, key } / { age } / { file } / { keyring }.
  refType = lib.types.either lib.types.str (lib.types.attrsOf fileType);

  identityType = lib.types.submodule {
    options = {
      file = lib.mkOption {
        type = lib.types.nullOr fileType;
        default = null;
        example = "/home/alice/.config/sops/age/keys.txt";
        description = "An age key file, a passphrase-protected age identity or an OpenSSH private key. A string outside the Nix store, never a Nix path.";
      };
      command = lib.mkOption {
        type = lib.types.nullOr (lib.types.listOf lib.types.str);
        default = null;
        example = [ "age-plugin-yubikey" "--identity" ];
        description = "A command (argv, no shell) whose output is an age key file.";
      };
      keyring = lib.mkOption {
        type = lib.types.nullOr lib.types.str;
        default = null;
        description = "The name of an identity stored in the OS keyring.";
      };
    };
  };

  profileType = lib.types.submodule (
    { name, ... }:
    {
      options = {
        command = lib.mkOption {
          type = lib.types.nullOr lib.types.str;
          default = null;
          example = lib.literalExpression "lib.getExe pkgs.codex";
          description = "The program to run, as an absolute path. Default: `${name}` found on PATH, past any with-secrets shim.";
        };
        env = lib.mkOption {
          type = lib.types.attrsOf refType;
          default = { };
          example = {
            OPENAI_API_KEY = "openai.api_key";
            GITHUB_TOKEN = {
              sops = "~/.config/with-secrets/github.yaml";
              key = "token";
            };
          };
          description = "Variables and the secret each one gets: a key path in `sopsFile`, or a reference `{ sops, key }`, `{ age }`, `{ file }`, `{ keyring }`.";
        };
        envFrom = lib.mkOption {
          type = lib.types.listOf refType;
          default = [ ];
          description = "SOPS documents whose top-level keys all become variables, as `sops exec-env` does.";
        };
        pristine = lib.mkOption {
          type = lib.types.bool;
          default = false;
          description = "Start the program with a small clean environment plus its secrets, instead of the whole parent environment.";
        };
        allowDangerous = lib.mkOption {
          type = lib.types.listOf lib.types.str;
          default = [ ];
          example = [ "NODE_OPTIONS" ];
          description = "Dangerous variables (PATH, LD_PRELOAD, NODE_OPTIONS, …) this profile may set.";
        };
        alias = lib.mkOption {
          type = lib.types.bool;
          default = true;
          description = "Add a shell alias `${name}` = `with-secrets ${name}` in the shells with integration enabled.";
        };
        wrapper = lib.mkOption {
          type = lib.types.bool;
          default = false;
          description = "Put a shim `bin/${name}` on PATH, ahead of the real program, that runs it through with-secrets, so scripts, editors and agents that never read shell aliases get the secrets too. Needs `command`.";
        };
      };
    }
  );

  # Home Manager's own defaults for shell integration (home.shell.enable*Integration) when it has them.
  mkIntegrationOption =
    shell: fn:
    if lib ? hm && lib.hm ? shell && lib.hm.shell ? ${fn} then
      lib.hm.shell.${fn} { inherit config; }
    else
      lib.mkOption {
        type = lib.types.bool;
        default = true;
        description = "Whether to enable ${shell} integration (aliases and completion).";
      };

  withSecrets = lib.getExe cfg.package;
  shellDir = "${cfg.package}/share/with-secrets/shell";
  shellInit = shell: ''
    source ${lib.escapeShellArg "${shellDir}/with-secrets.${shell}"}
    ${pure.aliasText shell cfg.profiles}'';

  wrapped = lib.filterAttrs (_: p: p.wrapper) cfg.profiles;
  mkShim =
    name: _:
    lib.hiPrio (
      pkgs.writeTextFile {
        name = "with-secrets-shim-${name}";
        destination = "/bin/${name}";
        executable = true;
        text = pure.wrapperText {
          inherit name withSecrets;
          shell = pkgs.runtimeShell;
        };
      }
    );

  zshInit =
    text:
    if options.programs.zsh ? initContent then
      { initContent = lib.mkOrder 1000 text; }
    else
      { initExtra = text; };
in
{
  options.programs.with-secrets = {
    enable = lib.mkEnableOption "with-secrets, which gives programs their secrets from SOPS files at launch";

    package = lib.mkPackageOption pkgs "with-secrets" { };

    sopsFile = lib.mkOption {
      type = lib.types.nullOr fileType;
      default = null;
      example = "~/.config/with-secrets/secrets.yaml";
      description = "The SOPS document that plain key-path references (`openai.api_key`) point into.";
    };

    ageKeyFile = lib.mkOption {
      type = lib.types.nullOr (lib.types.either lib.types.str lib.types.path);
      default = null;
      example = "/home/alice/.config/sops/age/keys.txt";
      description = "Shorthand for an `identities` entry `{ file = …; }`, tried first. A string outside the Nix store, never a Nix path.";
    };

    identities = lib.mkOption {
      type = lib.types.listOf identityType;
      default = [ ];
      description = "Where the age identities come from, in order. Default (empty): the sops lookup (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, ~/.config/sops/age/keys.txt, …).";
    };

    profiles = lib.mkOption {
      type = lib.types.attrsOf profileType;
      default = { };
      example = lib.literalExpression ''
        {
          codex.env.OPENAI_API_KEY = "openai.api_key";
          gh = { command = lib.getExe pkgs.gh; env.GITHUB_TOKEN = "github.token"; wrapper = true; };
        }
      '';
      description = "Profiles: the secrets each program gets.";
    };

    settings = lib.mkOption {
      type = (pkgs.formats.json { }).type;
      default = { };
      example = {
        profiles.codex.keepEnv = [ "SOPS_AGE_KEY_FILE" ];
      };
      description = "Free-form config, merged with the typed options above and written as JSON (which is YAML) to {file}`$XDG_CONFIG_HOME/with-secrets/config.yaml`.";
    };

    enableBashIntegration = mkIntegrationOption "Bash" "mkBashIntegrationOption";
    enableZshIntegration = mkIntegrationOption "Zsh" "mkZshIntegrationOption";
    enableFishIntegration = mkIntegrationOption "Fish" "mkFishIntegrationOption";

    validation = {
      enable = lib.mkOption {
        type = lib.types.bool;
        default = true;
        description = "Run `with-secrets check` on the new config during activation and warn, by profile name, about secrets that will not open.";
      };
      strict = lib.mkOption {
        type = lib.types.bool;
        default = false;
        description = "Stop activation when the check fails, instead of only warning.";
      };
    };
  };

  config = lib.mkIf cfg.enable {
    assertions =
      map (message: {
        assertion = false;
        inherit message;
      }) (
        pure.keyFileProblems cfg
        ++ pure.settingsKeyFileProblems cfg.settings (
          map toString ([ cfg.ageKeyFile ] ++ map (i: i.file) cfg.identities)
        )
      )
      ++ lib.mapAttrsToList (name: _: {
        assertion = pure.isProfileName name;
        message = "programs.with-secrets.profiles.${name}: a profile name must match [A-Za-z0-9_][A-Za-z0-9_.+-]* and must not be a with-secrets subcommand (${lib.concatStringsSep ", " pure.subcommands}).";
      }) cfg.profiles
      ++ lib.mapAttrsToList (name: p: {
        assertion = p.command == null || lib.hasPrefix "/" p.command;
        message = "programs.with-secrets.profiles.${name}.command must be an absolute path such as `lib.getExe pkgs.${name}`; leave it unset to find `${name}` on PATH.";
      }) cfg.profiles
      # The shim takes bin/NAME ahead of the real program: in the same profile, the real one is then not linked at all.
      ++ lib.mapAttrsToList (name: p: {
        assertion = !p.wrapper || p.command != null;
        message = "programs.with-secrets.profiles.${name}.wrapper needs `command` (such as `lib.getExe pkgs.${name}`): the shim takes bin/${name} ahead of the real program, which a search of PATH would then not find.";
      }) cfg.profiles
      ++ lib.imap0 (i: id: {
        assertion = lib.length (lib.filter (v: v != null) [ id.file id.command id.keyring ]) == 1;
        message = "programs.with-secrets.identities.${toString i}: set exactly one of `file`, `command`, `keyring`.";
      }) cfg.identities;

    programs.with-secrets.settings = pure.renderSettings cfg;

    home.packages = [ cfg.package ] ++ lib.mapAttrsToList mkShim wrapped;

    xdg.configFile."with-secrets/config.yaml".text = builtins.toJSON cfg.settings;

    programs.bash.initExtra = lib.mkIf cfg.enableBashIntegration (shellInit "bash");
    programs.zsh = lib.mkIf cfg.enableZshIntegration (zshInit (shellInit "zsh"));
    programs.fish.interactiveShellInit = lib.mkIf cfg.enableFishIntegration (shellInit "fish");

    home.activation.with-secrets-check = lib.mkIf cfg.validation.enable (
      lib.hm.dag.entryAfter [ "linkGeneration" "installPackages" ] (
        pure.activationText {
          inherit withSecrets;
          configFile = "${config.xdg.configHome}/with-secrets/config.yaml";
          binDirs = [ "${config.home.profileDirectory}/bin" ];
          inherit (cfg.validation) strict;
        }
      )
    );
  };
}
