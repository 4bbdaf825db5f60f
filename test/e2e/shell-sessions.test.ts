// Aliases and completion in real bash, zsh and fish sessions, against the built CLI and a real sops file.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, NODE } from '../helpers/built-cli.js';
import { ageKeygen, makeSopsFile, writeKeyFile } from '../helpers/sops-fixture.js';

const CANARY = 'canary-shell-0b5e1d77a3';
const has = (cmd: string) => spawnSync(cmd, ['--version']).status === 0;
const shells = { bash: has('bash'), zsh: has('zsh'), fish: has('fish') };
for (const [s, ok] of Object.entries(shells)) if (!ok) console.warn(`${s} is not installed: its session tests are skipped`);

let home: string;
let env: Record<string, string>;

/** Runs a script in a shell with the test environment; a hang fails the test instead of stalling CI. */
function runShell(shell: string, args: string[], script: string, name: string): { status: number | null; stdout: string; stderr: string } {
  const file = join(home, name);
  writeFileSync(file, script);
  const r = spawnSync(shell, [...args, file], { env, cwd: home, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  assertBuilt();
  home = mkdtempSync(join(tmpdir(), 'ws-shell-'));
  const bin = join(home, 'bin');
  mkdirSync(bin);
  const key = ageKeygen();
  const keyFile = writeKeyFile(home, [key.secret]);
  await makeSopsFile({ dir: home, name: 'secrets.yaml', plain: `svc:\n    token: ${CANARY}\n`, recipients: [key.recipient] });
  // `with-secrets` on PATH runs the built CLI; `probe` prints the variable it was given.
  writeFileSync(join(bin, 'with-secrets'), `#!/bin/sh\nexec '${NODE}' '${CLI}' "$@"\n`);
  writeFileSync(join(bin, 'probe'), '#!/bin/sh\necho "probe got [${PROBE_TOKEN-unset}] args [$*]"\n');
  for (const f of ['with-secrets', 'probe']) chmodSync(join(bin, f), 0o755);
  writeFileSync(
    join(home, 'config.json'),
    JSON.stringify({
      version: 1,
      sopsFile: '~/secrets.yaml',
      profiles: {
        probe: { env: { PROBE_TOKEN: 'svc.token' } },
        'probe-work': { command: join(bin, 'probe'), env: { PROBE_TOKEN: 'svc.token' } },
        // No alias (not a plain word), but completion offers it, quoted for the command line.
        "it's": { command: join(bin, 'probe'), env: {} },
      },
    }),
  );
  env = {
    HOME: home,
    PATH: `${bin}:/usr/bin:/bin`,
    SOPS_AGE_KEY_FILE: keyFile,
    WITH_SECRETS_CONFIG: join(home, 'config.json'),
    TERM: 'dumb',
    LANG: 'C.UTF-8',
  };
});

afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

/** bash: calls the completion function registered for the first word, as readline would, and prints COMPREPLY. */
const BASH_COMPLETE = `
t() {
  COMP_WORDS=("$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); COMP_LINE="$*"; COMP_POINT=\${#COMP_LINE}; COMPREPLY=()
  local spec f; spec=$(complete -p -- "$1") || { echo "[$*] no completion"; return; }
  f=\${spec##* -F }; f=\${f%% *}
  "$f" "$1" "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
  echo "[$*] -> \${COMPREPLY[*]}"
}
# As readline splits a line at COMP_WORDBREAKS: the line as typed, then its words (= and : on their own).
tl() {
  COMP_LINE=$1; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); COMP_POINT=\${#COMP_LINE}; COMPREPLY=()
  local spec f; spec=$(complete -p -- "$1") || { echo "[$COMP_LINE] no completion"; return; }
  f=\${spec##* -F }; f=\${f%% *}
  "$f" "$1" "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
  echo "[$COMP_LINE] -> \${COMPREPLY[*]}"
}
`;

describe.skipIf(!shells.bash)('bash', () => {
  it('aliases run the profiles with their secret; completion offers subcommands, profiles and the program\'s own words', () => {
    const r = runShell('bash', ['--norc', '--noprofile'], `
shopt -s expand_aliases  # the test's own shell; the snippet sets no option
eval "$(with-secrets shell-init bash)"
_probe_fake() { mapfile -t COMPREPLY < <(compgen -W 'alpha beta --gamma' -- "$2"); }
complete -F _probe_fake probe
probe one two
probe-work three
PROBE_TOKEN=outer; echo "parent still has [$PROBE_TOKEN]"
${BASH_COMPLETE}
t with-secrets ''
t with-secrets pro
t with-secrets shell-init ''
t with-secrets check --
t with-secrets probe ''
t with-secrets probe-work a
t probe-work ''
t probe --g
t with-secrets run -- probe b
t with-secrets it
tl 'with-secrets --profile=probe-work probe b' with-secrets --profile = probe-work probe b
tl "with-secrets --config=$HOME/config.json -p probe-w" with-secrets --config = "$HOME/config.json" -p probe-w
`, 'session.bash');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout;
    expect(out).toContain(`probe got [${CANARY}] args [one two]`);
    expect(out).toContain(`probe got [${CANARY}] args [three]`);
    expect(out).toContain('parent still has [outer]');
    expect(out).toMatch(/^\[with-secrets \] -> .*\bcheck\b.*\bshell-init\b.*\bcompletion\b.*\bprobe probe-work it\\'s$/m);
    expect(out).toContain('[with-secrets pro] -> probe probe-work\n');
    expect(out).toContain('[with-secrets shell-init ] -> bash zsh fish\n');
    expect(out).toMatch(/^\[with-secrets check --\] -> .*--json.*--no-decrypt/m);
    expect(out).toContain('[with-secrets probe ] -> alpha beta --gamma\n');
    expect(out).toContain('[with-secrets probe-work a] -> alpha\n');
    expect(out).toContain('[probe-work ] -> alpha beta --gamma\n');
    expect(out).toContain('[probe --g] -> --gamma\n');
    expect(out).toContain('[with-secrets run -- probe b] -> beta\n');
    expect(out).toContain("[with-secrets it] -> it\\'s\n");
    // `--opt=value` split by readline at `=` still reaches with-secrets as one word.
    expect(out).toContain('[with-secrets --profile=probe-work probe b] -> beta\n');
    expect(out).toMatch(/\[with-secrets --config=.*config\.json -p probe-w\] -> probe-work\n/);
  });
});

describe.skipIf(!shells.fish)('fish', () => {
  it('alias functions run the profiles with their secret; completion through `complete -C`', () => {
    const r = runShell('fish', ['--no-config'], `
with-secrets shell-init fish | source
complete -c probe -f -a 'alpha beta'
complete -c probe -l gamma
probe one two
probe-work three
for line in 'with-secrets pro' 'with-secrets shell-init ' 'with-secrets probe ' 'probe-work ' 'probe-work --g' 'with-secrets run -- probe ' 'with-secrets check --'
    echo "[$line] -> "(complete -C "$line" | string replace -r '\\t.*' '' | string join ' ')
end
`, 'session.fish');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout;
    expect(out).toContain(`probe got [${CANARY}] args [one two]`);
    expect(out).toContain(`probe got [${CANARY}] args [three]`);
    expect(out).toContain('[with-secrets pro] -> probe probe-work\n');
    expect(out).toContain('[with-secrets shell-init ] -> bash fish zsh\n');
    expect(out).toContain('[with-secrets probe ] -> alpha beta\n');
    expect(out).toContain('[probe-work ] -> alpha beta\n');
    expect(out).toContain('[probe-work --g] -> --gamma\n');
    expect(out).toContain('[with-secrets run -- probe ] -> alpha beta\n');
    expect(out).toMatch(/^\[with-secrets check --\] -> .*--json.*--no-decrypt/m);
  });
});

describe.skipIf(!shells.zsh)('zsh', () => {
  it('aliases run the profiles with their secret', () => {
    const r = runShell('zsh', ['-f'], `
eval "$(with-secrets shell-init zsh)"
probe one two
probe-work three
`, 'session.zsh');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`probe got [${CANARY}] args [one two]`);
    expect(r.stdout).toContain(`probe got [${CANARY}] args [three]`);
  });

  it('completion in an interactive zsh (zpty): subcommands, profiles, the alias keeps the program\'s completion', () => {
    const zdot = join(home, 'zdot');
    mkdirSync(zdot, { recursive: true });
    writeFileSync(
      join(zdot, '.zshrc'),
      `autoload -Uz compinit && compinit -u -d "$HOME/.zcompdump"
eval "$(with-secrets shell-init zsh)"
_probe_fake() { compadd alpha beta --gamma }
compdef _probe_fake probe
PROMPT='%% '
`,
    );
    // Each line is typed with a TAB, then the pty is read until the expected candidates show (or the
    // spawnSync timeout kills the run); Ctrl-U clears the line for the next one.
    const r = runShell('zsh', ['-f'], `
zmodload zsh/zpty
zpty z "ZDOTDIR=${zdot} zsh -i"
expect() { local got; zpty -r z got "*$1*" && print -r -- "seen: $1"; }
zpty -w -n z $'with-secrets pro\\t\\t'; expect 'probe-work'
zpty -w -n z $'\\C-u'
zpty -w -n z $'with-secrets shell-init \\t'; expect 'fish'
zpty -w -n z $'\\C-u'
zpty -w -n z $'probe-work \\t'; expect 'alpha'
zpty -w -n z $'\\C-u'
zpty -w -n z $'with-secrets probe --g\\t'; expect 'gamma'
zpty -d z
`, 'drive.zsh');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('seen: '))).toEqual(['seen: probe-work', 'seen: fish', 'seen: alpha', 'seen: gamma']);
  });

  it('`completion zsh` works as an autoloaded _with-secrets in $fpath (as the Nix package installs it)', () => {
    const zfunc = join(home, 'zfunc');
    const zdot = join(home, 'zdot-fpath');
    mkdirSync(zfunc, { recursive: true });
    mkdirSync(zdot, { recursive: true });
    const script = spawnSync('with-secrets', ['completion', 'zsh'], { env, encoding: 'utf8' });
    expect(script.status).toBe(0);
    writeFileSync(join(zfunc, '_with-secrets'), script.stdout);
    writeFileSync(join(zdot, '.zshrc'), `fpath=(${zfunc} $fpath)\nautoload -Uz compinit && compinit -u -d "$HOME/.zcompdump-fpath"\nPROMPT='%% '\n`);
    const r = runShell('zsh', ['-f'], `
zmodload zsh/zpty
zpty z "ZDOTDIR=${zdot} zsh -i"
expect() { local got; zpty -r z got "*$1*" && print -r -- "seen: $1"; }
zpty -w -n z $'with-secrets shell-init \\t'; expect 'fish'
zpty -w -n z $'\\C-u'
zpty -w -n z $'with-secrets pro\\t\\t'; expect 'probe-work'
zpty -d z
`, 'drive-fpath.zsh');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('seen: '))).toEqual(['seen: fish', 'seen: probe-work']);
  });
});
