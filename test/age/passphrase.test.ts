// Passphrase-protected identity files: the prompt on a real pty (no echo, terminal restored), and no terminal.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Encrypter, armor } from 'age-encryption';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInPty } from '../helpers/pty.js';

const VECTORS = resolve(__dirname, '../../../shared/vectors/getsops+sops/age-level');
const haveVectors = existsSync(VECTORS);
if (!haveVectors) console.warn(`skipping passphrase vector test: ${VECTORS} not found`);

const PASS = 'correct horse battery';
const dir = mkdtempSync(join(tmpdir(), 'ws-pass-'));
const harness = join(dir, 'harness.mjs');
let keyFile = '';
let recipient = '';
let secret = '';

beforeAll(async () => {
  await build({
    entryPoints: [resolve(__dirname, '../helpers/identity-harness.ts')],
    outfile: harness,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['keytar'],
    logLevel: 'warning',
  });
  keyFile = execFileSync('age-keygen', [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  recipient = /public key: (\S+)/.exec(keyFile)![1]!;
  secret = keyFile.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A passphrase-protected key file, at a low scrypt work factor so the test stays fast. */
async function protectedFile(name: string, armored: boolean): Promise<string> {
  const e = new Encrypter();
  e.setPassphrase(PASS);
  e.setScryptWorkFactor(10);
  const ct = await e.encrypt(keyFile);
  const path = join(dir, name);
  writeFileSync(path, armored ? armor.encode(ct) : ct, { mode: 0o600 });
  return path;
}

function env(specs: unknown, interactive: boolean): Record<string, string | undefined> {
  return { PATH: process.env['PATH'], HOME: dir, HARNESS_SPECS: JSON.stringify(specs), HARNESS_INTERACTIVE: interactive ? '1' : '0' };
}

function result(output: string): { recipients: string[]; report: string[]; sttyRestored: boolean; error?: string } {
  const line = output.split(/\r?\n/).find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no result in output:\n${output}`);
  return JSON.parse(line.slice(7)) as { recipients: string[]; report: string[]; sttyRestored: boolean };
}

describe('passphrase-protected identity files', () => {
  it.each([false, true])('asks on the terminal without echo and opens the file (armored: %s)', async (armored) => {
    const file = await protectedFile(`p${armored ? 'a' : 'b'}.age`, armored);
    const r = await runInPty([process.execPath, harness], [{ expect: 'Enter passphrase for', send: `${PASS}\r` }], env([{ file }], true));
    expect(r.code).toBe(0);
    const res = result(r.output);
    expect(res.recipients).toEqual([recipient]);
    expect(res.sttyRestored).toBe(true);
    expect(r.output).not.toContain(PASS);
    expect(r.output).not.toContain(secret.slice(16));
  });

  it('lets a wrong passphrase be retyped', async () => {
    const file = await protectedFile('retry.age', true);
    const r = await runInPty(
      [process.execPath, harness],
      [
        { expect: 'Enter passphrase for', send: 'wrong-one\r' },
        { expect: 'Enter passphrase for', send: `${PASS}\r` },
      ],
      env([{ file }], true),
    );
    expect(r.output).toContain('wrong passphrase, try again');
    expect(result(r.output).recipients).toEqual([recipient]);
    expect(r.output).not.toContain('wrong-one');
  });

  it('Ctrl-C at the prompt stops the run (later sources are not tried) and restores the terminal', async () => {
    const file = await protectedFile('cancel.age', false);
    const plain = join(dir, 'plain-after.txt');
    writeFileSync(plain, keyFile, { mode: 0o600 });
    const r = await runInPty([process.execPath, harness], [{ expect: 'Enter passphrase for', send: '\u0003' }], env([{ file }, { file: plain }], true));
    const res = result(r.output);
    expect(res.recipients).toEqual([]);
    expect(res.error).toBe('passphrase prompt cancelled');
    expect(res.report).toEqual([`file: ${file}: failed: passphrase prompt cancelled`]);
    expect(res.sttyRestored).toBe(true);
  });

  it('without a controlling terminal: reported as skipped, nothing asked', async () => {
    const file = await protectedFile('notty.age', true);
    // setsid: a new session with no controlling terminal, so /dev/tty cannot be opened.
    const r = spawnSync('setsid', ['-w', process.execPath, harness], { env: env([{ file }], true), encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(result(r.stdout).report).toEqual([`file: ${file}: skipped: needs a passphrase, and there is no terminal`]);
    expect(r.stderr).toContain('no terminal');
  });

  it('non-interactive runs never prompt, even on a terminal', async () => {
    const file = await protectedFile('nonint.age', true);
    const r = await runInPty([process.execPath, harness], [], env([{ file }], false), 30_000);
    expect(r.output).not.toContain('Enter passphrase');
    expect(result(r.output).report[0]).toContain('skipped: needs a passphrase');
  });

  it.skipIf(!haveVectors)('opens the sops vector (passphrase-protected-identity.age.txt) at its full work factor', async () => {
    const file = join(dir, 'vector.age');
    copyFileSync(join(VECTORS, 'passphrase-protected-identity.age.txt'), file);
    chmodSync(file, 0o600);
    const expected = readFileSync(join(VECTORS, 'x25519-recipient.txt'), 'utf8').trim();
    const r = await runInPty([process.execPath, harness], [{ expect: 'Enter passphrase for', send: 'passphrase\r' }], env([{ file }], true));
    expect(result(r.output).recipients).toEqual([expected]);
  });

  it('opens a key file the real `age -p -a` protected (typed on a pty)', async () => {
    const plain = join(dir, 'plain.txt');
    const out = join(dir, 'real.age');
    writeFileSync(plain, keyFile, { mode: 0o600 });
    const made = await runInPty(
      ['age', '-p', '-a', '-o', out, plain],
      [
        { expect: 'passphrase', send: `${PASS}\r` },
        { expect: 'Confirm', send: `${PASS}\r` },
      ],
      { PATH: process.env['PATH'], HOME: dir },
    );
    expect(made.code, made.output).toBe(0);
    chmodSync(out, 0o600);
    const r = await runInPty([process.execPath, harness], [{ expect: 'Enter passphrase for', send: `${PASS}\r` }], env([{ file: out }], true));
    expect(result(r.output).recipients).toEqual([recipient]);
  });
});
