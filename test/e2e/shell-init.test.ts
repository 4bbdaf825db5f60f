// `shell-init` and `completion` edge cases: no config yet, a broken config, bad arguments.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers/built-cli.js';

let home: string;
const env = () => ({ HOME: home, PATH: process.env.PATH });
const snippet = (shell: string) => readFileSync(join(REPO_ROOT, 'shell', `with-secrets.${shell}`), 'utf8');

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'ws-shell-init-'));
});
afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('shell-init', () => {
  it('with no config yet: the completion alone, silently, exit 0 (a new shell must start quietly)', async () => {
    const r = await runCli(['shell-init', 'bash'], { env: env() });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(snippet('bash'));
  });

  it('with a broken config: the completion still, the error on stderr naming the file, exit 3', async () => {
    const cfg = join(home, 'broken.yaml');
    writeFileSync(cfg, 'version: 1\nprofiles:\n  codex:\n    bogus: 1\n');
    const r = await runCli(['--config', cfg, 'shell-init', 'zsh'], { env: env() });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe(snippet('zsh'));
    expect(r.stderr).toMatch(/broken\.yaml:4: profiles\.codex\.bogus/);
  });

  it('a named config that is missing is an error', async () => {
    const r = await runCli(['--config', join(home, 'nope.yaml'), 'shell-init', 'fish'], { env: env() });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe(snippet('fish'));
    expect(r.stderr).toContain('nope.yaml');
  });

  it('refuses an unknown shell, and completion wants exactly one shell', async () => {
    expect((await runCli(['shell-init', 'tcsh'], { env: env() })).code).toBe(2);
    expect((await runCli(['completion'], { env: env() })).code).toBe(2);
    expect((await runCli(['completion', 'bash', 'zsh'], { env: env() })).code).toBe(2);
    const r = await runCli(['completion', 'csh'], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unsupported shell 'csh'");
  });

  it('completion reads the config a typed --config names, ~ included (the shell expands it only when the line runs)', async () => {
    writeFileSync(join(home, 'other.json'), JSON.stringify({ version: 1, profiles: { onlyinother: { env: {} } } }));
    for (const words of [['--config', '~/other.json', '-p', 'only'], ['--config=~/other.json', '-p', 'only'], ['-c', '~/other.json', 'only']]) {
      const r = await runCli(['completion', '--complete', '--', ...words], { env: env() });
      expect(r.stdout, words.join(' ')).toBe('onlyinother\n');
    }
  });

  it('completion --complete never fails: without a config it still offers the subcommands', async () => {
    const r = await runCli(['completion', '--complete', '--', 'sh'], { env: env() });
    expect(r).toMatchObject({ code: 0, stdout: 'shell-init\n' });
  });
});
