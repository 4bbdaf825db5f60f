// The shell snippets (shell/) and what shell-init/completion print: syntax in each shell, shellcheck, no option changes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers/built-cli.js';

const has = (cmd: string, arg = '--version') => spawnSync(cmd, [arg]).status === 0;
const tools = { bash: has('bash'), zsh: has('zsh'), fish: has('fish'), shellcheck: has('shellcheck') };
for (const [tool, ok] of Object.entries(tools)) if (!ok) console.warn(`${tool} is not installed: its shell snippet tests are skipped`);

const snippet = (shell: string) => join(REPO_ROOT, 'shell', `with-secrets.${shell}`);

/** Syntax-only check of a file in its own shell; returns stderr (empty when fine). */
function syntax(shell: 'bash' | 'zsh' | 'fish', file: string): { status: number | null; stderr: string } {
  const args = shell === 'fish' ? ['--no-execute', file] : ['-n', file];
  const r = spawnSync(shell, args, { encoding: 'utf8', env: { ...process.env, HOME: tmpdir() } });
  return { status: r.status, stderr: r.stderr };
}

let dir: string;
const generated: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ws-snippets-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ version: 1, sopsFile: join(dir, 's.yaml'), profiles: { codex: { env: { A: 'a' } }, 'codex-work': { command: '/usr/bin/codex', env: { A: 'a' } } } }));
  for (const shell of ['bash', 'zsh', 'fish']) {
    for (const cmd of ['shell-init', 'completion']) {
      const r = await runCli(['--config', config, cmd, shell], { env: { HOME: dir, PATH: process.env.PATH } });
      expect(r.code, r.stderr).toBe(0);
      const file = join(dir, `${cmd}.${shell}`);
      writeFileSync(file, r.stdout);
      generated[`${cmd} ${shell}`] = file;
    }
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('shell snippets', () => {
  it.skipIf(!tools.bash)('bash -n', () => {
    for (const f of [snippet('bash'), generated['shell-init bash']!, generated['completion bash']!]) expect(syntax('bash', f)).toEqual({ status: 0, stderr: '' });
  });

  it.skipIf(!tools.zsh)('zsh -n', () => {
    for (const f of [snippet('zsh'), generated['shell-init zsh']!, generated['completion zsh']!]) expect(syntax('zsh', f)).toEqual({ status: 0, stderr: '' });
  });

  it.skipIf(!tools.fish)('fish --no-execute', () => {
    for (const f of [snippet('fish'), generated['shell-init fish']!, generated['completion fish']!]) expect(syntax('fish', f)).toEqual({ status: 0, stderr: '' });
  });

  it.skipIf(!tools.bash)('a syntax error is caught (the syntax tests can fail)', () => {
    const bad = join(dir, 'bad.bash');
    writeFileSync(bad, 'f() { if true; then echo; }\n');
    expect(syntax('bash', bad).status).not.toBe(0);
  });

  it.skipIf(!tools.shellcheck)('shellcheck: the bash snippet and shell-init output', () => {
    for (const f of [snippet('bash'), generated['shell-init bash']!]) {
      const r = spawnSync('shellcheck', ['-s', 'bash', f], { encoding: 'utf8' });
      expect(r.stdout, f).toBe('');
      expect(r.status).toBe(0);
    }
  });

  it('sourced code changes no shell option and evaluates nothing it reads', () => {
    for (const shell of ['bash', 'zsh', 'fish']) {
      const text = readFileSync(snippet(shell), 'utf8').replace(/^\s*#.*$/gm, '');
      // (fish has no shell options: its `set -l`/`set -e` are variable operations)
      expect(text, shell).not.toMatch(shell === 'fish' ? /\beval\b/ : /\b(shopt|setopt|unsetopt|set -[a-z]|set \+[a-z]|set -o|eval)\b/);
      // Every function it defines is prefixed.
      const fns = [...text.matchAll(/^(?:function\s+)?([\w-]+)\s*(?:\(\)|\s--)/gm)].map((m) => m[1]);
      expect(fns.length, shell).toBeGreaterThan(0);
      for (const fn of fns) expect(fn, `${shell}: ${fn}`).toMatch(/^__with_secrets_/);
    }
  });

  it('shell-init adds an alias per profile after the completion snippet', () => {
    const bash = readFileSync(generated['shell-init bash']!, 'utf8');
    expect(bash.startsWith(readFileSync(snippet('bash'), 'utf8'))).toBe(true);
    expect(bash).toContain("alias codex='with-secrets codex'\n");
    expect(bash).toContain('complete -o default -F __with_secrets_complete_alias codex-work\n');
    expect(readFileSync(generated['completion zsh']!, 'utf8').startsWith('#compdef with-secrets\n')).toBe(true);
  });
});
