// `with-secrets init --keyring` against a real Secret Service (gnome-keyring on a private bus): the identity goes to the
// keyring, the config names it, and `secret set` / the launcher open the file with it; a locked keyring leaves nothing behind.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli, type CliResult } from '../helpers/built-cli.js';
import { canRunKeyringSession, startKeyringSession, type KeyringSession } from '../helpers/keyring-session.js';

const available = canRunKeyringSession();
if (!available) console.warn('SKIPPED: init --keyring e2e needs dbus-daemon, dbus-send and gnome-keyring-daemon');
const CANARY = 'canary-init-keyring-6c1d';

function clean(r: CliResult): void {
  expect(r.stdout + r.stderr).not.toMatch(/AGE-SECRET-KEY-/);
  expect(r.stdout + r.stderr).not.toContain(CANARY);
}

describe.skipIf(!available)('init --keyring', () => {
  let s: KeyringSession;
  beforeAll(async () => {
    assertBuilt();
    s = await startKeyringSession('unlocked');
  });
  afterAll(() => s?.stop());

  it('stores the identity in the keyring, not in keys.txt; the files open with it', async () => {
    const home = s.env['HOME']!;
    const bin = join(home, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'codex'), '#!/bin/sh\necho "len=${#OPENAI_API_KEY}"\n', { mode: 0o755 });
    const env = { ...s.env, PATH: `${bin}:${s.env['PATH']}` };
    const r = await runCli(['init', '--keyring', 'main'], { env, cwd: home });
    clean(r);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(home, '.config', 'sops', 'age', 'keys.txt'))).toBe(false);
    expect(readFileSync(join(home, '.config', 'with-secrets', 'config.yaml'), 'utf8')).toContain('- keyring: "main"');
    const set = await runCli(['secret', 'set', 'openai.api_key'], { env, cwd: home, input: CANARY });
    clean(set);
    expect(set.code, set.stderr).toBe(0);
    const run = await runCli(['codex'], { env, cwd: home });
    expect(run.stdout).toBe(`len=${CANARY.length}\n`);
    // A second init with the same keyring name refuses before writing anything (the files exist too).
    const again = await runCli(['init', '--keyring', 'main', '--file', join(home, 'other.yaml'), '--config', join(home, 'other-config.yaml')], { env, cwd: home });
    expect(again.code).toBe(9);
    expect(existsSync(join(home, 'other.yaml'))).toBe(false);
    expect(existsSync(join(home, 'other-config.yaml'))).toBe(false);
  });

  it('a locked keyring: init fails and leaves no file behind', async () => {
    const home = s.env['HOME']!;
    s.lock();
    const r = await runCli(['init', '--keyring', 'locked', '--file', join(home, 'l', 'secrets.yaml'), '--config', join(home, 'l', 'config.yaml')], { env: s.env, cwd: home, timeoutMs: 30_000 });
    clean(r);
    expect(r.code).toBe(8);
    expect(existsSync(join(home, 'l'))).toBe(false);
  });
});
