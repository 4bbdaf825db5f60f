# Pure helpers of the Home Manager module: the config it writes, the shell aliases, the wrapper shims and
# the activation entry. Only builtins are used, so tests evaluate this file with `nix-instantiate --eval`
# and no nixpkgs.
let
  inherit (builtins)
    attrNames
    concatStringsSep
    filter
    isAttrs
    isPath
    isString
    length
    listToAttrs
    match
    replaceStrings
    substring
    stringLength
    ;

  # Quotes a string for POSIX shells (bash, zsh and fish read '…' the same when it has no backslash or ').
  escapeShellArg = s: "'" + replaceStrings [ "'" ] [ "'\\''" ] (toString s) + "'";

  # The basename of a path string.
  baseName = p: let parts = builtins.split "/" p; in builtins.elemAt parts (length parts - 1);

  # Attributes whose value is null, an empty list or an empty set are left out of the written config.
  dropEmpty = attrs:
    listToAttrs (
      map (n: { name = n; value = attrs.${n}; }) (
        filter (n: let v = attrs.${n}; in v != null && v != [ ] && v != { }) (attrNames attrs)
      )
    );

  # Paths that may be Nix path values (encrypted SOPS files) become strings.
  pathString = p: if isPath p then toString p else p;

  renderRef = r: if isAttrs r then builtins.mapAttrs (_: pathString) r else r;

  renderIdentity = i: dropEmpty {
    file = if i.file or null == null then null else pathString i.file;
    command = i.command or null;
    keyring = i.keyring or null;
  };

  renderProfile = p: dropEmpty {
    command = p.command or null;
    env = builtins.mapAttrs (_: renderRef) (p.env or { });
    envFrom = map renderRef (p.envFrom or [ ]);
    pristine = if p.pristine or false then true else null;
    allowDangerous = p.allowDangerous or [ ];
  };

  # Subcommand names of with-secrets, which can never be profile names.
  subcommands = [
    "run" "decrypt" "list" "check" "init" "secret" "identity" "keyring" "recipients" "rotate" "doctor"
    "shell-init" "completion" "help"
  ];

  # A name usable as an alias in bash, zsh and fish, and as a file name in bin/.
  isProfileName = name: match "[A-Za-z0-9_][A-Za-z0-9_.+-]*" name != null && !(builtins.elem name subcommands);

  # Words a shell parses itself: an alias or function of that name breaks bash, zsh or fish (src/shell/render-aliases.ts keeps the same list).
  shellReservedWords = [
    "if" "then" "else" "elif" "fi" "case" "esac" "for" "select" "while" "until" "do" "done" "in"
    "function" "time" "coproc" "foreach" "end" "repeat" "nocorrect" "declare" "export" "float" "integer"
    "local" "readonly" "typeset" "test" "command" "exec" "eval" "string" "set" "status" "read" "argparse"
    "builtin" "not" "and" "or" "begin" "switch" "return" "break" "continue"
  ];
  isAliasName = name: isProfileName name && !(builtins.elem name shellReservedWords);

  # The program whose completion an alias keeps: the basename of `command`, else the profile name.
  completionCommandOf = name: p: if p.command or null == null then name else baseName p.command;

  # The marker the launcher looks for in a PATH shim's first 512 bytes (src/launch/shim-marker.ts).
  shimMarker = "with-secrets-shim";

  # Why a key file setting is unsafe, or null: key files are strings outside the Nix store.
  keyFileProblem = what: v:
    if v == null then null
    else if isPath v then
      "${what} is a Nix path; a path literal copies the private key into the world-readable Nix store. Write it as a string, e.g. \"/home/alice/.config/sops/age/keys.txt\" or \"\${config.xdg.configHome}/sops/age/keys.txt\"."
    else if !isString v then "${what} must be a string naming the key file."
    else if builtins.hasContext v || substring 0 (stringLength builtins.storeDir + 1) v == builtins.storeDir + "/" then
      "${what} (${builtins.unsafeDiscardStringContext v}) is inside the Nix store, which every user can read; keep the key file in your home directory and give its path as a plain string."
    else null;
in
rec {
  inherit escapeShellArg shimMarker isProfileName isAliasName shellReservedWords subcommands completionCommandOf keyFileProblem;

  # The typed options rendered as the config (the `version: 1` schema of the launcher issue).
  # cfg: { sopsFile, ageKeyFile, identities, profiles.<name> = { command, env, envFrom, pristine, allowDangerous, … } }
  renderSettings = cfg: dropEmpty {
    version = 1;
    sopsFile = if cfg.sopsFile or null == null then null else pathString cfg.sopsFile;
    identities =
      (if cfg.ageKeyFile or null == null then [ ] else [ { file = pathString cfg.ageKeyFile; } ])
      ++ map renderIdentity (cfg.identities or [ ]);
    profiles = builtins.mapAttrs (_: renderProfile) (cfg.profiles or { });
  };

  # Every problem with key files in the options, as messages for assertions (empty when all is well).
  keyFileProblems = cfg:
    filter (m: m != null) (
      [ (keyFileProblem "programs.with-secrets.ageKeyFile" (cfg.ageKeyFile or null)) ]
      ++ builtins.genList (
        i: keyFileProblem "programs.with-secrets.identities.${toString i}.file" ((builtins.elemAt cfg.identities i).file or null)
      ) (length (cfg.identities or [ ]))
    );

  # The same problems in identities given through the free-form `settings` (top level and per profile),
  # except files already reported from the typed options (they are rendered into settings too).
  settingsKeyFileProblems = settings: reported:
    let
      entries =
        builtins.genList (i: {
          what = "programs.with-secrets.settings.identities.${toString i}.file";
          file = (builtins.elemAt (settings.identities or [ ]) i).file or null;
        }) (length (settings.identities or [ ]))
        ++ builtins.concatLists (
          map (
            name:
            let
              ids = (settings.profiles.${name} or { }).identities or [ ];
            in
            builtins.genList (i: {
              what = "programs.with-secrets.settings.profiles.${name}.identities.${toString i}.file";
              file = (builtins.elemAt ids i).file or null;
            }) (length ids)
          ) (attrNames (settings.profiles or { }))
        );
    in
    filter (m: m != null) (
      map (e: if builtins.elem e.file reported then null else keyFileProblem e.what e.file) entries
    );

  # Shell text defining the aliases of `profiles` (those with alias = true) for "bash", "zsh" or "fish";
  # the same text `with-secrets shell-init` prints after its completion snippet (src/shell/render-aliases.ts).
  aliasText = shell: profiles:
    let
      names = filter (n: (profiles.${n}.alias or true) && isAliasName n) (attrNames profiles);
      one = name:
        let
          target = completionCommandOf name profiles.${name};
        in
        if shell == "fish" then
          "function ${name}${if target != name && isProfileName target then " --wraps ${target}" else ""} --description 'run ${name} with its secrets (with-secrets)'\n"
          + "    with-secrets ${name} $argv\n"
          + "end\n"
        else
          "alias ${name}='with-secrets ${name}'\n"
          + (if shell == "bash" && target != name then "complete -o default -F __with_secrets_complete_alias ${name}\n" else "");
    in
    concatStringsSep "" (map one names);

  # The PATH shim bin/<name>: runs the profile through with-secrets (the profile's `command`, an absolute
  # path, when set; else the name found on PATH past every shim). The marker sits in its first 512 bytes.
  wrapperText = { name, withSecrets, shell ? "/bin/sh" }:
    ''
      #!${shell}
      # ${shimMarker}: runs ${name} with the secrets of its with-secrets profile (Home Manager programs.with-secrets).
      exec ${escapeShellArg withSecrets} ${escapeShellArg name} "$@"
    '';

  # The activation entry's text: checks the new generation's config with `with-secrets check` (names only),
  # following Home Manager's conventions (`run` and DRY_RUN, VERBOSE, warnEcho/errorEcho); a failure warns,
  # and stops activation only when strict.
  activationText = { withSecrets, configFile, binDirs ? [ ], strict ? false }:
    let
      pathPrefix = concatStringsSep ":" binDirs;
      ws = escapeShellArg withSecrets;
      cfgArg = escapeShellArg configFile;
      onFailure =
        if strict then
          ''errorEcho "with-secrets: the check above failed (exit $__with_secrets_status); stopping activation because programs.with-secrets.validation.strict is set."; exit 1''
        else
          ''warnEcho "with-secrets: the check above failed (exit $__with_secrets_status): the profiles it names will not get their secrets. Fix them, then run 'with-secrets check'."'';
    in
    ''
      __with_secrets_check=(${ws} --config ${cfgArg} check)
      if [[ -v VERBOSE ]]; then __with_secrets_check+=(--verbose); fi
      if [[ -v DRY_RUN ]]; then
        run "''${__with_secrets_check[@]}"
      else
        verboseEcho "with-secrets: checking the profiles in "${cfgArg}
        __with_secrets_status=0
        PATH=${if pathPrefix == "" then "" else escapeShellArg pathPrefix + "\${PATH:+:}"}''${PATH-} "''${__with_secrets_check[@]}" || __with_secrets_status=$?
        if (( __with_secrets_status != 0 )); then
          ${onFailure}
        fi
        unset __with_secrets_status
      fi
      unset __with_secrets_check
    '';
}
