// Every reference form end to end ({age}, {file}, key paths, envFrom), each identity source used once, and the value checks.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, makeWorld, parseReport, runCli, type LaunchWorld } from './launch-harness.js';

let w: LaunchWorld;
let a: string;
let b: string;

beforeAll(async () => {
  w = makeWorld();
  a = await w.sops('a.yaml', 'one: 1\ntwo: "two"\nlist: [x]\n');
  b = await w.sops('b.json', '{"three": "3", "deep": {"four": "4"}}');
});
afterAll(() => w.cleanup());

function profile(body: unknown, top: Record<string, unknown> = {}): void {
  w.config({ version: 1, sopsFile: a, ...top, profiles: { p: body } });
}

describe('reference forms', () => {
  it('{age: FILE} gives the whole plaintext minus one trailing newline; {file: PATH} likewise', async () => {
    const ageFile = join(w.home, 'tok.age');
    execFileSync('age', ['-r', w.recipient, '-o', ageFile], { input: 'age-token\n\n' });
    const armored = join(w.home, 'tok.age.asc');
    execFileSync('age', ['-a', '-r', w.recipient, '-o', armored], { input: 'armored-token\n' });
    const plain = join(w.home, 'plain.txt');
    writeFileSync(plain, 'plain-token\n');
    profile({ env: { AGE_TOK: { age: ageFile }, ARMORED: { age: '~/tok.age.asc' }, PLAIN: { file: '$HOME/plain.txt' } } });
    const r = await runCli(['run', '-p', 'p', '--', fixture('print-env.mjs')], { env: w.env() });
    expect(r.stderr).toBe('');
    expect(parseReport(r.stdout).env).toMatchObject({ AGE_TOK: 'age-token\n', ARMORED: 'armored-token', PLAIN: 'plain-token' });
  });

  it('key paths: dotted, extract syntax, list index; several files', async () => {
    profile({ env: { ONE: 'one', TWO: '["two"]', X: 'list.0', THREE: { sops: b, key: 'three' }, FOUR: { sops: b, key: '["deep"]["four"]' } } });
    const r = await runCli(['run', '-p', 'p', '--', fixture('print-env.mjs')], { env: w.env() });
    expect(r.stderr).toBe('');
    expect(parseReport(r.stdout).env).toMatchObject({ ONE: '1', TWO: 'two', X: 'x', THREE: '3', FOUR: '4' });
  });

  it('uses each identity source once per launch, however many files and secrets need it', async () => {
    const counter = join(w.tmp, 'keycmd-count');
    writeFileSync(counter, '');
    const key = readFileSync(join(w.home, '.config', 'sops', 'age', 'keys.txt'), 'utf8');
    const cmd = w.exe(w.bin, 'keycmd', `#!/bin/sh\necho run >> "${counter}"\ncat <<'EOF'\n${key}EOF\n`);
    const ageFile = join(w.home, 'once.age');
    execFileSync('age', ['-r', w.recipient, '-o', ageFile], { input: 'x' });
    profile({ identities: [{ command: [cmd] }], env: { ONE: 'one', TWO: 'two', THREE: { sops: b, key: 'three' }, AGE: { age: ageFile } } });
    const r = await runCli(['run', '-p', 'p', '--', fixture('print-env.mjs')], { env: w.env() });
    expect(r.stderr).toBe('');
    expect(parseReport(r.stdout).env).toMatchObject({ ONE: '1', TWO: 'two', THREE: '3', AGE: 'x' });
    expect(readFileSync(counter, 'utf8')).toBe('run\n');
  });

  it('refuses a MAC mismatch (every file is verified before anything launches)', async () => {
    const text = readFileSync(b, 'utf8');
    const tampered = join(w.home, 'tampered.json');
    // Swap the order of two values' ciphertexts: each still decrypts under its own AAD only if unchanged, so change the MAC instead.
    writeFileSync(tampered, text.replace(/"mac": "ENC\[AES256_GCM,data:([A-Za-z0-9+/=]{4})/, (_m, d: string) => `"mac": "ENC[AES256_GCM,data:${d === 'AAAA' ? 'BBBB' : 'AAAA'}`));
    profile({ env: { ONE: 'one', T: { sops: tampered, key: 'three' } } });
    const r = await runCli(['run', '-p', 'p', '--', 'true'], { env: w.env() });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/tampered\.json/);
  });
});

describe('value and name checks', () => {
  it('a value too large for one environment string is a clear 125, not E2BIG', async () => {
    const big = join(w.home, 'big.txt');
    writeFileSync(big, 'x'.repeat(200 * 1024));
    profile({ env: { BIG: { file: big } } });
    const r = await runCli(['run', '-p', 'p', '--', 'true'], { env: w.env() });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/BIG is \d+ bytes; one environment variable can hold at most 131072 bytes/);
  });

  it('arguments plus environment over the system limit is a clear 125 (one file read once for all of them)', async () => {
    const chunk = join(w.home, 'chunk.txt');
    writeFileSync(chunk, 'y'.repeat(120 * 1024));
    const env: Record<string, unknown> = {};
    for (let i = 0; i < 60; i++) env[`CHUNK_${i}`] = { file: chunk };
    profile({ env });
    const r = await runCli(['run', '-p', 'p', '--', 'true'], { env: w.env() });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/the arguments and environment of the child take \d+ bytes; the system allows \d+/);
  });

  it('SOPS_AGE_KEY (a private key) opens the files but never reaches the child; keepEnv passes SOPS_AGE_KEY_FILE on', async () => {
    const key = readFileSync(join(w.home, '.config', 'sops', 'age', 'keys.txt'), 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
    profile({ env: { ONE: 'one' } });
    // Set but empty, the key command and SSH variables are not sources; they are still removed.
    const env = w.env({ SOPS_AGE_KEY: key, SOPS_AGE_KEY_FILE: join(w.home, '.config', 'sops', 'age', 'keys.txt'), SOPS_AGE_KEY_CMD: '', SOPS_AGE_SSH_PRIVATE_KEY_FILE: '' });
    const r = await runCli(['run', '-p', 'p', '--', fixture('print-env.mjs')], { env });
    expect(r.stderr).toBe('');
    const child = parseReport(r.stdout).env;
    expect(child['ONE']).toBe('1');
    for (const name of ['SOPS_AGE_KEY', 'SOPS_AGE_KEY_FILE', 'SOPS_AGE_KEY_CMD', 'SOPS_AGE_SSH_PRIVATE_KEY_FILE']) expect(child).not.toHaveProperty(name);
    expect(r.stdout).not.toContain(key);
    profile({ env: { ONE: 'one' }, keepEnv: ['SOPS_AGE_KEY_FILE'] });
    const kept = await runCli(['run', '-p', 'p', '--', fixture('print-env.mjs')], { env: w.env({ SOPS_AGE_KEY_FILE: join(w.home, '.config', 'sops', 'age', 'keys.txt') }) });
    expect(parseReport(kept.stdout).env['SOPS_AGE_KEY_FILE']).toBe(join(w.home, '.config', 'sops', 'age', 'keys.txt'));
  });

  it('a NUL in a value and non-UTF-8 bytes are refused, naming the variable only', async () => {
    const nul = join(w.home, 'nul.txt');
    writeFileSync(nul, Buffer.from('abc\0def'));
    profile({ env: { NUL: { file: nul } } });
    const r = await runCli(['run', '-p', 'p', '--', 'true'], { env: w.env() });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/the value of NUL .* contains a NUL byte/);
    expect(r.stderr).not.toContain('abc');
    writeFileSync(nul, Buffer.from([0xff, 0xfe, 0x41]));
    const r2 = await runCli(['run', '-p', 'p', '--', 'true'], { env: w.env() });
    expect(r2.stderr).toMatch(/NUL \(file .*\) is not UTF-8 text/);
  });

  it('envFrom keys pass the name check and the dangerous-variable guard', async () => {
    const bad = await w.sops('bad-names.json', '{"GOOD": "g", "not-a-name": "x"}');
    profile({ envFrom: [bad] });
    const r = await runCli(['run', '-p', 'p', '--', 'true'], { env: w.env() });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/key "not-a-name" of .*bad-names\.json \(envFrom of profile p\) is not a valid variable name/);
    const danger = await w.sops('danger.json', '{"LD_PRELOAD": "/tmp/evil.so"}');
    profile({ envFrom: [danger] });
    const d = await runCli(['run', '-p', 'p', '--', 'true'], { env: w.env() });
    expect(d.code).toBe(125);
    expect(d.stderr).toMatch(/sets LD_PRELOAD, a dangerous variable/);
    expect(d.stderr).not.toContain('evil');
    profile({ envFrom: [danger], allowDangerous: ['LD_PRELOAD'] });
    const ok = await runCli(['--dry-run', 'run', '-p', 'p', '--', 'true'], { env: w.env() });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/LD_PRELOAD <- .*danger\.json: LD_PRELOAD \(envFrom\)/);
  });

  it('a config written by Home Manager (JSON) reports errors with file, line and key', async () => {
    w.config(JSON.stringify({ version: 1, sopsFile: a, profiles: { p: { env: { ONE: 'one' }, pristin: true } } }, null, 2));
    const r = await runCli(['run', '-p', 'p', '--', 'true'], { env: w.env() });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/config\.yaml:9: profiles\.p\.pristin: unknown key "pristin"\nhint: allowed here: command, env, envFrom/);
  });
});
