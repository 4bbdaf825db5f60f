// End to end: `identity generate`, `doctor`, and SOPS files wrapped to SSH keys, through the built CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, NODE, runCli, type CliResult } from '../helpers/built-cli.js';
import { ageKeygen, makeSopsFile, writeKeyFile } from '../helpers/sops-fixture.js';

let home: string;
beforeAll(() => {
  assertBuilt();
  home = mkdtempSync(join(tmpdir(), 'ws-e2e-id-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

const env = (extra: Record<string, string> = {}): Record<string, string | undefined> => ({ PATH: process.env['PATH'], HOME: home, ...extra });

/** No run may print key material, whatever it did. */
function noKeyMaterial(r: CliResult, ...secrets: string[]): void {
  const all = r.stdout + r.stderr;
  expect(all).not.toMatch(/AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]{20}/);
  expect(all).not.toContain('PRIVATE KEY');
  for (const s of secrets) expect(all).not.toContain(s.slice(20));
}

describe('identity generate', () => {
  it("creates sops' keys.txt 0600, appends a second key, and the real age opens files for both", async () => {
    const r1 = await runCli(['identity', 'generate'], { env: env() });
    expect(r1.code, r1.stderr).toBe(0);
    noKeyMaterial(r1);
    const keys = join(home, '.config/sops/age/keys.txt');
    expect(statSync(keys).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, '.config/sops/age')).mode & 0o777).toBe(0o700);
    const r2 = await runCli(['identity', 'generate'], { env: env() });
    expect(r2.stderr).toContain(`appended a new identity to ${keys}`);
    const [a, b] = [r1.stdout.trim(), r2.stdout.trim()];
    expect(a).toMatch(/^age1[0-9a-z]{58}$/);
    expect(readFileSync(keys, 'utf8').match(/^AGE-SECRET-KEY-1/gm)).toHaveLength(2);
    for (const rcpt of [a, b]) {
      const ct = execFileSync('age', ['-r', rcpt], { input: 'hi' });
      writeFileSync(join(home, 'ct.age'), ct);
      expect(execFileSync('age', ['-d', '-i', keys, join(home, 'ct.age')], { encoding: 'utf8' })).toBe('hi');
    }
  });

  it('--file appends to a file missing its final newline; refuses one others can write', async () => {
    const f = join(home, 'mine.txt');
    const { secret } = ageKeygen();
    writeFileSync(f, `# mine\n${secret}`, { mode: 0o600 });
    const r = await runCli(['identity', 'generate', '--file', f], { env: env() });
    expect(r.code).toBe(0);
    expect(readFileSync(f, 'utf8').split('\n')[1]).toBe(secret);
    chmodSync(f, 0o666);
    const bad = await runCli(['identity', 'generate', '--file', f], { env: env() });
    expect(bad.code).toBe(9);
    expect(bad.stderr).toContain('writable by group, refused');
    expect(bad.stderr).toContain(`chmod 600 '${f}'`);
    noKeyMaterial(bad, secret);
  });

  it('a write cut short (a full disk; here a file-size limit) leaves the key file as it was, or no file, and says so', () => {
    // prlimit (util-linux) sets RLIMIT_FSIZE: the append's write stops at the limit, as on a nearly full disk.
    const run = (limit: number, file: string) =>
      spawnSync('prlimit', [`--fsize=${limit}`, NODE, CLI, 'identity', 'generate', '--file', file], { env: env(), encoding: 'utf8' });
    const f = join(home, 'limited.txt');
    const keys = [ageKeygen().secret, ageKeygen().secret];
    const before = keys.map((k) => `# a key\n${k}\n`).join('');
    writeFileSync(f, before, { mode: 0o600 });
    const cut = run(before.length + 60, f);
    expect(cut.status, cut.stderr).toBe(9);
    expect(cut.stderr).toContain(`${f}: cannot write (EFBIG)`);
    expect(cut.stderr).toContain('the file is as it was');
    expect(readFileSync(f, 'utf8')).toBe(before);
    noKeyMaterial({ code: cut.status, signal: null, stdout: cut.stdout, stderr: cut.stderr }, ...keys);
    // A file this run would have created is not left behind half-written.
    const fresh = join(home, 'fresh', 'keys.txt');
    const none = run(0, fresh);
    expect(none.status, none.stderr).toBe(9);
    expect(none.stderr).toContain('nothing was written');
    expect(existsSync(fresh)).toBe(false);
  });

  it('appending a new key to a key file others can read says so', async () => {
    const f = join(home, 'readable.txt');
    const { secret } = ageKeygen();
    writeFileSync(f, `${secret}\n`);
    chmodSync(f, 0o644);
    const r = await runCli(['identity', 'generate', '--file', f], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`with-secrets: warning: ${f}: readable by group; fix with: chmod 600 '${f}'`);
    noKeyMaterial(r, secret);
  });

  it('--keyring and --file together are a usage error', async () => {
    const r = await runCli(['identity', 'generate', '--file', 'x', '--keyring', 'y'], { env: env() });
    expect(r.code).toBe(2);
  });
});

describe('doctor', () => {
  it('lists each source with its recipients, warns about a readable key file, and says which file each opens', async () => {
    const dir = mkdtempSync(join(home, 'doc-'));
    const k1 = ageKeygen();
    const k2 = ageKeygen();
    const keyFile = writeKeyFile(dir, [k1.secret], 'k1.txt');
    chmodSync(keyFile, 0o644);
    const opened = await makeSopsFile({ dir, name: 'ok.yaml', plain: 'a: 1\n', recipients: [k1.recipient] });
    const closed = await makeSopsFile({ dir, name: 'closed.yaml', plain: 'a: 1\n', recipients: [k2.recipient] });
    const ok = await runCli(['doctor', opened.path], { env: env({ SOPS_AGE_KEY_FILE: keyFile }) });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`SOPS_AGE_KEY_FILE (${keyFile}): 1 identity\n      ${k1.recipient}`);
    expect(ok.stdout).toContain(`${opened.path}: opened by SOPS_AGE_KEY_FILE (${keyFile})`);
    expect(ok.stdout).toContain(`readable by group; fix with: chmod 600 '${keyFile}'`);
    noKeyMaterial(ok, k1.secret);

    const bad = await runCli(['doctor', closed.path], { env: env({ SOPS_AGE_KEY_FILE: keyFile }) });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`${closed.path}: no identity found opens it; its recipients: ${k2.recipient}`);
  });

  it('reports a passphrase-protected key as skipped without prompting, and exits 1 with no identity', async () => {
    const dir = mkdtempSync(join(home, 'doc2-'));
    const { Encrypter, armor } = await import('age-encryption');
    const e = new Encrypter();
    e.setPassphrase('pw');
    e.setScryptWorkFactor(10);
    const f = join(dir, 'p.age');
    writeFileSync(f, armor.encode(await e.encrypt(`${ageKeygen().secret}\n`)), { mode: 0o600 });
    const r = await runCli(['doctor'], { env: { ...env({ SOPS_AGE_KEY_FILE: f }), HOME: dir } });
    expect(r.stdout).toContain(`SOPS_AGE_KEY_FILE (${f}): skipped: needs a passphrase, and there is no terminal`);
    expect(r.stdout).toContain('no identity found');
    expect(r.code).toBe(1);
  });
});

describe('SOPS files wrapped to SSH recipients (the real age wraps the data key)', () => {
  it.each(['ed25519', 'rsa'])('ssh-%s: decrypt with SOPS_AGE_SSH_PRIVATE_KEY_FILE and with the default ~/.ssh key', async (type) => {
    const dir = mkdtempSync(join(home, `ssh-${type}-`));
    mkdirSync(join(dir, '.ssh'), { mode: 0o700 });
    const key = join(dir, '.ssh', `id_${type}`);
    execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', key], { stdio: 'ignore' });
    const pub = readFileSync(`${key}.pub`, 'utf8').trim();
    const f = await makeSopsFile({ dir, name: 's.yaml', plain: 'openai:\n  api_key: sk-ssh-canary\n', recipients: [pub] });
    expect(f.text).toContain(`recipient: ${pub.split(' ').slice(0, 2).join(' ')}`);
    const viaVar = await runCli(['decrypt', '--extract', '["openai"]["api_key"]', f.path], { env: { PATH: process.env['PATH'], HOME: home, SOPS_AGE_SSH_PRIVATE_KEY_FILE: key } });
    expect(viaVar.stdout, viaVar.stderr).toBe('sk-ssh-canary');
    const viaDefault = await runCli(['decrypt', '--extract', '["openai"]["api_key"]', f.path], { env: { PATH: process.env['PATH'], HOME: dir } });
    expect(viaDefault.stdout, viaDefault.stderr).toBe('sk-ssh-canary');
    noKeyMaterial(viaDefault);
  });

  it('an encrypted SSH key named by SOPS_AGE_SSH_PRIVATE_KEY_FILE: a clear error naming the alternatives', async () => {
    const dir = mkdtempSync(join(home, 'ssh-enc-'));
    const key = join(dir, 'id');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'pw-pw-pw', '-f', key], { stdio: 'ignore' });
    const f = await makeSopsFile({ dir, name: 's.yaml', plain: 'a: b\n', recipients: [readFileSync(`${key}.pub`, 'utf8').trim()] });
    const r = await runCli(['decrypt', f.path], { env: { PATH: process.env['PATH'], HOME: dir, SOPS_AGE_SSH_PRIVATE_KEY_FILE: key } });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('passphrase-protected');
    expect(r.stderr).toContain('SOPS_AGE_KEY_CMD');
  });
});
