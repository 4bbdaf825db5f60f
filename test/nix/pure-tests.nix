# Tests of the Home Manager module's pure helpers (hm-module/lib.nix); evaluates to the list of failures.
# Run: nix-instantiate --eval --strict --json test/nix/pure-tests.nix   (expects [])
let
  l = import ../../hm-module/lib.nix;

  check = name: actual: expected: if actual == expected then null else { inherit name actual expected; };
  has = s: sub: builtins.match ".*${sub}.*" (builtins.replaceStrings [ "\n" ] [ " " ] s) != null;
  ok = name: cond: if cond then null else { inherit name; actual = false; expected = true; };

  profiles = {
    codex = {
      env.OPENAI_API_KEY = "openai.api_key";
      alias = true;
      wrapper = false;
      pristine = false;
      allowDangerous = [ ];
      envFrom = [ ];
      command = null;
    };
    codex-work = {
      command = "/nix/store/aaaa-codex/bin/codex";
      env.OPENAI_API_KEY = {
        sops = "~/.config/with-secrets/work.yaml";
        key = "openai.api_key";
      };
      pristine = true;
      allowDangerous = [ "NODE_OPTIONS" ];
    };
    quiet = {
      alias = false;
      envFrom = [ "~/.config/with-secrets/dev.env" ];
    };
  };

  wrapper = l.wrapperText {
    name = "codex";
    withSecrets = "/nix/store/bbbb-with-secrets/bin/with-secrets";
    shell = "/nix/store/cccc-bash/bin/bash";
  };
  act = strict: l.activationText {
    withSecrets = "/nix/store/bbbb-with-secrets/bin/with-secrets";
    configFile = "/home/alice/.config/with-secrets/config.yaml";
    binDirs = [ "/home/alice/.nix-profile/bin" ];
    inherit strict;
  };
in
builtins.filter (x: x != null) [
  (check "renderSettings" (l.renderSettings {
    sopsFile = "~/.config/with-secrets/secrets.yaml";
    ageKeyFile = "/home/alice/.config/sops/age/keys.txt";
    identities = [ { file = null; command = [ "age-plugin-yubikey" "-i" ]; keyring = null; } ];
    inherit profiles;
  }) {
    version = 1;
    sopsFile = "~/.config/with-secrets/secrets.yaml";
    identities = [
      { file = "/home/alice/.config/sops/age/keys.txt"; }
      { command = [ "age-plugin-yubikey" "-i" ]; }
    ];
    profiles = {
      codex.env.OPENAI_API_KEY = "openai.api_key";
      codex-work = {
        command = "/nix/store/aaaa-codex/bin/codex";
        env.OPENAI_API_KEY = {
          sops = "~/.config/with-secrets/work.yaml";
          key = "openai.api_key";
        };
        pristine = true;
        allowDangerous = [ "NODE_OPTIONS" ];
      };
      quiet.envFrom = [ "~/.config/with-secrets/dev.env" ];
    };
  })
  (check "renderSettings minimal" (l.renderSettings { profiles = { }; }) { version = 1; })
  (check "renderSettings sopsFile path stays a path string, not a store copy"
    (l.renderSettings { sopsFile = /tmp/with-secrets-test-secrets.yaml; }).sopsFile
    "/tmp/with-secrets-test-secrets.yaml")

  (check "aliasText bash" (l.aliasText "bash" profiles) ''
    alias codex='with-secrets codex'
    alias codex-work='with-secrets codex-work'
    complete -o default -F __with_secrets_complete_alias codex-work
  '')
  (check "aliasText zsh" (l.aliasText "zsh" profiles) ''
    alias codex='with-secrets codex'
    alias codex-work='with-secrets codex-work'
  '')
  (check "aliasText fish" (l.aliasText "fish" profiles) ''
    function codex --description 'run codex with its secrets (with-secrets)'
        with-secrets codex $argv
    end
    function codex-work --wraps codex --description 'run codex-work with its secrets (with-secrets)'
        with-secrets codex-work $argv
    end
  '')
  (check "aliasText skips invalid names" (l.aliasText "bash" { "a b" = { }; check = { }; }) "")
  (check "aliasText skips shell reserved words" (l.aliasText "fish" { time = { }; "if" = { }; test = { }; }) "")

  (ok "wrapper marker in first 512 bytes" (has (builtins.substring 0 512 wrapper) l.shimMarker))
  (check "wrapper text" wrapper ''
    #!/nix/store/cccc-bash/bin/bash
    # with-secrets-shim: runs codex with the secrets of its with-secrets profile (Home Manager programs.with-secrets).
    exec '/nix/store/bbbb-with-secrets/bin/with-secrets' 'codex' "$@"
  '')

  (ok "activation: non-strict warns, never exits" (has (act false) "warnEcho" && !(has (act false) "exit 1")))
  (ok "activation: strict exits 1" (has (act true) "errorEcho.*exit 1"))
  (ok "activation: dry run goes through run" (has (act false) "DRY_RUN.*run \"[$][{]__with_secrets_check"))
  (ok "activation: profile bin on PATH" (has (act false) "PATH='/home/alice/.nix-profile/bin'"))

  (check "keyFileProblems: fine" (l.keyFileProblems {
    ageKeyFile = "/home/alice/keys.txt";
    identities = [ { file = "~/.ssh/id_ed25519"; } { command = [ "x" ]; } ];
  }) [ ])
  (ok "keyFileProblems: path literal" (
    let p = l.keyFileProblems { ageKeyFile = ./pure-tests.nix; }; in
    builtins.length p == 1 && has (builtins.head p) "ageKeyFile is a Nix path"
  ))
  (ok "keyFileProblems: store string" (
    let p = l.keyFileProblems { identities = [ { file = "${builtins.storeDir}/abc-keys.txt"; } ]; }; in
    builtins.length p == 1 && has (builtins.head p) "identities.0.file .* is inside the Nix store"
  ))
  (ok "keyFileProblems: string with store context" (
    let p = l.keyFileProblems { ageKeyFile = "${builtins.toFile "k" "x"}"; }; in builtins.length p == 1
  ))

  (ok "settingsKeyFileProblems: free-form identities, top level and per profile" (
    let
      p = l.settingsKeyFileProblems {
        identities = [ { file = "${builtins.storeDir}/abc-keys.txt"; } { file = "/home/alice/keys.txt"; } ];
        profiles.gh.identities = [ { file = ./pure-tests.nix; } ];
        profiles.x.env.A = "a";
      } [ ];
    in
    builtins.length p == 2
    && has (builtins.elemAt p 0) "settings.identities.0.file .* is inside the Nix store"
    && has (builtins.elemAt p 1) "settings.profiles.gh.identities.0.file is a Nix path"
  ))
  (check "settingsKeyFileProblems: typed files are not reported twice"
    (l.settingsKeyFileProblems { identities = [ { file = "${builtins.storeDir}/abc-keys.txt"; } ]; } [ "${builtins.storeDir}/abc-keys.txt" ])
    [ ])

  (check "isProfileName" (map l.isProfileName [ "codex" "codex-work" "gh_2" "a.b+c" "check" "a b" "-x" "x/y" "" ]) [
    true true true true false false false false false
  ])
]
