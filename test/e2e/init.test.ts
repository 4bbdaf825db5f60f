// `with-secrets init` end to end: identity, empty SOPS file and starter config; never overwrites; nothing half-made on failure.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { runCli, type CliResult } from '../helpers/built-cli.js';
import { ageKeygen } from '../helpers/sops-fixture.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ws-init-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fresh HOME with nothing in it. */
function freshHome(name: string): { home: string; env: Record<string, string> } {
  const home = join(root, name);
  mkdirSync(home);
  return { home, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home } };
}

function noKeyMaterial(r: CliResult): void {
  expect(r.stdout + r.stderr).not.toMatch(/AGE-SECRET-KEY/);
}

describe('init', () => {
  it('creates a 0600 key file where sops reads it, an empty SOPS file, and a config the validator accepts', async () => {
    const { home, env } = freshHome('first');
    const r = await runCli(['init'], { env, cwd: home });
    noKeyMaterial(r);
    expect(r.code).toBe(0);
    const keyFile = join(home, '.config', 'sops', 'age', 'keys.txt');
    const secrets = join(home, '.config', 'with-secrets', 'secrets.yaml');
    const config = join(home, '.config', 'with-secrets', 'config.yaml');
    for (const f of [keyFile, secrets, config]) expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, '.config', 'with-secrets')).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, '.config', 'sops', 'age')).mode & 0o777).toBe(0o700);
    const recipient = /# public key: (age1\S+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;
    expect(r.stderr).toContain(recipient);
    // The SOPS file is a sops file the real age CLI can unwrap with the new key.
    const text = readFileSync(secrets, 'utf8');
    expect(text).toContain(`recipient: ${recipient}`);
    const enc = /enc: \|\n((?: {12}.*\n)+)/.exec(text)![1]!.replace(/^ {12}/gm, '');
    expect(execFileSync('age', ['-d', '-i', keyFile], { input: enc })).toHaveLength(32);
    // It decrypts to an empty document with our reader (keys.txt found as sops finds it).
    const d = await runCli(['decrypt', secrets], { env, cwd: home });
    expect(d.code).toBe(0);
    expect(d.stdout).toBe('{}\n');
    // The config is valid for with-secrets' own loader and names the secrets file.
    const cfg = await loadConfig(config, { env, homeDir: home });
    expect(cfg.sopsFile).toBe(secrets);
    expect([...cfg.profiles.keys()]).toEqual(['codex']);
    // `secret list` on the new file: empty, with a hint.
    const l = await runCli(['secret', 'list'], { env, cwd: home });
    expect(l.code).toBe(0);
    expect(l.stdout).toBe('');
  });

  it('refuses to overwrite anything, and changes nothing', async () => {
    const { home, env } = freshHome('again');
    expect((await runCli(['init'], { env, cwd: home })).code).toBe(0);
    const files = ['.config/sops/age/keys.txt', '.config/with-secrets/secrets.yaml', '.config/with-secrets/config.yaml'].map((f) => join(home, f));
    const before = files.map((f) => readFileSync(f));
    const r = await runCli(['init'], { env, cwd: home });
    expect(r.code).toBe(9);
    expect(r.stderr).toContain('would overwrite');
    files.forEach((f, i) => expect(readFileSync(f).equals(before[i]!)).toBe(true));
  });

  it('with an existing key file: refuses, or encrypts to it with --use-existing-key', async () => {
    const { home, env } = freshHome('existing');
    const k = ageKeygen();
    mkdirSync(join(home, '.config', 'sops', 'age'), { recursive: true });
    const keyFile = join(home, '.config', 'sops', 'age', 'keys.txt');
    writeFileSync(keyFile, `${k.secret}\n`, { mode: 0o600 });
    const r1 = await runCli(['init'], { env, cwd: home });
    expect(r1.code).toBe(9);
    expect(r1.stderr).toContain('--use-existing-key');
    expect(existsSync(join(home, '.config', 'with-secrets'))).toBe(false);
    const r2 = await runCli(['init', '--use-existing-key'], { env, cwd: home });
    noKeyMaterial(r2);
    expect(r2.code).toBe(0);
    expect(readFileSync(keyFile, 'utf8')).toBe(`${k.secret}\n`);
    expect(readFileSync(join(home, '.config', 'with-secrets', 'secrets.yaml'), 'utf8')).toContain(k.recipient);
  });

  it('--key-file away from where sops looks: the starter config names it, so the next steps just work', async () => {
    const { home, env } = freshHome('ownkey');
    const keyFile = join(home, 'mykeys', 'keys.txt');
    const r = await runCli(['init', '--key-file', keyFile], { env, cwd: home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`named under identities: in the config; sops reads it with SOPS_AGE_KEY_FILE=${keyFile}`);
    expect(readFileSync(join(home, '.config', 'with-secrets', 'config.yaml'), 'utf8')).toContain(`identities:\n  - file: "~/mykeys/keys.txt"`);
    const set = await runCli(['secret', 'set', 'openai.api_key'], { env, cwd: home, input: 'sk-own-key' });
    expect(set.code, set.stderr).toBe(0);
    const run = await runCli(['run', '-p', 'codex', '--', 'sh', '-c', 'test "$OPENAI_API_KEY" = sk-own-key'], { env, cwd: home });
    expect(run.code, run.stderr).toBe(0);
  });

  it('--use-existing-key with a --key-file that cannot be read: exit 9 naming it, nothing written', async () => {
    const { home, env } = freshHome('keydir');
    const r = await runCli(['init', '--use-existing-key', '--key-file', home], { env, cwd: home });
    expect(r.code).toBe(9);
    expect(r.stderr).toContain(`${home}: cannot read the key file (it is a directory)`);
    expect(r.stderr).not.toContain('internal error');
    expect(existsSync(join(home, '.config'))).toBe(false);
  });

  it('adds --recipient, and refuses a bad one before writing anything', async () => {
    const { home, env } = freshHome('recipients');
    const other = ageKeygen();
    const bad = await runCli(['init', '--recipient', 'age1notavalidrecipient'], { env, cwd: home });
    expect(bad.code).toBe(2);
    expect(existsSync(join(home, '.config'))).toBe(false);
    const r = await runCli(['init', '-r', other.recipient], { env, cwd: home });
    expect(r.code).toBe(0);
    // The other recipient can open it.
    const d = await runCli(['decrypt', join(home, '.config', 'with-secrets', 'secrets.yaml')], { env: { ...env, SOPS_AGE_KEY: other.secret, XDG_CONFIG_HOME: join(home, 'none') }, cwd: home });
    expect(d.code).toBe(0);
  });

  it('leaves nothing half-made when a later step fails', async () => {
    const { home, env } = freshHome('rollback');
    // The config's directory cannot be made (a file is in the way): the SOPS file made before it is removed again.
    writeFileSync(join(home, 'blocker'), 'x');
    const r = await runCli(['--config', join(home, 'blocker', 'config.yaml'), 'init', '--file', join(home, 'deep', 'dir', 'secrets.yaml')], { env, cwd: home });
    expect(r.code).not.toBe(0);
    expect(existsSync(join(home, 'deep'))).toBe(false);
    expect(existsSync(join(home, '.config'))).toBe(false);
    expect(readFileSync(join(home, 'blocker'), 'utf8')).toBe('x');
  });

  it('applies a matching .sops.yaml creation rule (and ignores a project rule that does not match)', async () => {
    const { home, env } = freshHome('rules');
    const team = ageKeygen();
    mkdirSync(join(home, 'proj'));
    writeFileSync(
      join(home, 'proj', '.sops.yaml'),
      `creation_rules:\n  - path_regex: \\.yaml$\n    age: ${team.recipient}\n    encrypted_regex: ^(api_key|token)$\nstores:\n  yaml:\n    indent: 2\n`,
    );
    const r = await runCli(['init', '--file', join(home, 'proj', 'secrets.yaml'), '--config', join(home, 'proj', 'config.yaml')], { env, cwd: home });
    expect(r.code).toBe(0);
    const text = readFileSync(join(home, 'proj', 'secrets.yaml'), 'utf8');
    expect(text).toContain(team.recipient);
    expect(text).toContain('encrypted_regex: ^(api_key|token)$');
    // stores.yaml.indent of the .sops.yaml applies to what is written, as in sops.
    expect(text).toMatch(/^sops:\n  age:\n/m);
    // In a project whose rules do not match the default path, init still works with no rule.
    const other = freshHome('rules2');
    mkdirSync(join(other.home, 'work'));
    writeFileSync(join(other.home, 'work', '.sops.yaml'), `creation_rules:\n  - path_regex: ^only/this\\.yaml$\n    age: ${team.recipient}\n`);
    const r2 = await runCli(['init'], { env: other.env, cwd: join(other.home, 'work') });
    expect(r2.code).toBe(0);
    expect(readFileSync(join(other.home, '.config', 'with-secrets', 'secrets.yaml'), 'utf8')).not.toContain(team.recipient);
  });

  it('a new user goes from nothing to `with-secrets codex` (init, secret set, the example profile)', async () => {
    const { home, env } = freshHome('journey');
    const bin = join(home, 'bin');
    mkdirSync(bin);
    // A stand-in for codex that shows what it got, hashed (the value itself is never printed).
    writeFileSync(join(bin, 'codex'), '#!/bin/sh\nprintf "%s" "$OPENAI_API_KEY" | sha256sum | cut -c1-16\necho "args=$*"\n', { mode: 0o755 });
    const userEnv = { ...env, PATH: `${bin}:${env.PATH}` };
    expect((await runCli(['init'], { env: userEnv, cwd: home })).code).toBe(0);
    const value = 'sk-journey-canary-4411';
    const set = await runCli(['secret', 'set', 'openai.api_key'], { env: userEnv, cwd: home, input: `${value}\n` });
    expect(set.code).toBe(0);
    const r = await runCli(['codex', '--model', 'x'], { env: userEnv, cwd: home });
    expect(r.code).toBe(0);
    const { createHash } = await import('node:crypto');
    expect(r.stdout).toBe(`${createHash('sha256').update(value).digest('hex').slice(0, 16)}\nargs=--model x\n`);
    for (const out of [set, r]) expect(out.stdout + out.stderr).not.toContain(value);
  });
});
