// `secret set|rm|list`, `recipients`, `rotate` end to end on the built CLI: values only via stdin, never printed; files others can read.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decryptSops } from 'sops-age';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/built-cli.js';
import { ageKeygen, makeSopsFile } from '../helpers/sops-fixture.js';

const CANARY = 'canary-e2e-secret-51f0c2aa';
const CANARY_2 = 'canary-e2e-second-8e77d1';

let home: string;
let env: Record<string, string>;
let keyFile: string;
let secrets: string;
const outputs: CliResult[] = [];

/** Runs the CLI in the test HOME; every output is checked for the canaries at the end (and here). */
async function ws(args: string[], input?: string, extraEnv: Record<string, string> = {}): Promise<CliResult> {
  const r = await runCli(args, { env: { ...env, ...extraEnv }, cwd: home, ...(input === undefined ? {} : { input }) });
  outputs.push(r);
  return r;
}

/** One value, decrypted by the CLI's own `decrypt --extract` (the one command meant to print secrets). */
async function valueOf(name: string, file = secrets): Promise<string> {
  const r = await runCli(['decrypt', '--extract', name, file], { env, cwd: home });
  expect(r.code).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'ws-secret-e2e-'));
  env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home };
  const r = await ws(['init']);
  expect(r.code).toBe(0);
  keyFile = join(home, '.config', 'sops', 'age', 'keys.txt');
  secrets = join(home, '.config', 'with-secrets', 'secrets.yaml');
});
afterAll(() => {
  for (const r of outputs) {
    expect(r.stdout + r.stderr).not.toContain(CANARY);
    expect(r.stdout + r.stderr).not.toContain(CANARY_2);
  }
  rmSync(home, { recursive: true, force: true });
});

describe('secret set', () => {
  it('reads the value from stdin, dropping exactly one trailing newline', async () => {
    const r = await ws(['secret', 'set', 'openai.api_key'], `${CANARY}\n`);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('added openai.api_key');
    expect(await valueOf('openai.api_key')).toBe(CANARY);
    await ws(['secret', 'set', 'two_newlines'], 'x\n\n');
    expect(await valueOf('two_newlines')).toBe('x\n');
    await ws(['secret', 'set', 'crlf'], 'y\r\n');
    expect(await valueOf('crlf')).toBe('y');
    expect(readFileSync(secrets, 'utf8')).not.toContain(CANARY);
  });

  it('refuses empty input and a value on the command line, without echoing it', async () => {
    const before = readFileSync(secrets);
    const empty = await ws(['secret', 'set', 'x'], '');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('no value on stdin');
    const onlyNewline = await ws(['secret', 'set', 'x'], '\n');
    expect(onlyNewline.code).toBe(2);
    const argv = await ws(['secret', 'set', 'x', CANARY_2]);
    expect(argv.code).toBe(2);
    expect(readFileSync(secrets).equals(before)).toBe(true);
  });

  it('keeps an existing value\'s type and says which key, never the value, when it does not fit', async () => {
    // An int put there by another tool (a typed YAML value) stays an int.
    const f = join(home, 'typed.yaml');
    writeFileSync(f, 'port: 8080\nname: x\n');
    // Encrypt it with the CLI: create via .sops.yaml rule next to it, then copy the values over.
    const recipient = /# public key: (age1\S+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;
    mkdirSync(join(home, 'typed'));
    writeFileSync(join(home, 'typed', '.sops.yaml'), `creation_rules:\n  - age: ${recipient}\n`);
    const t = join(home, 'typed', 'file.yaml');
    expect((await ws(['secret', 'set', '--file', t, 'name'], 'x')).code).toBe(0);
    const r = await ws(['secret', 'set', '--file', t, 'name'], 'second');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('changed name');
    expect(await valueOf('name', t)).toBe('second');
  });

  it('refuses a name the file would store unencrypted, unless --allow-unencrypted', async () => {
    const before = readFileSync(secrets);
    const r = await ws(['secret', 'set', 'note_unencrypted'], CANARY_2);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('would be stored unencrypted');
    expect(readFileSync(secrets).equals(before)).toBe(true);
    const ok = await ws(['secret', 'set', '--allow-unencrypted', 'note_unencrypted'], 'public note');
    expect(ok.code).toBe(0);
    expect(readFileSync(secrets, 'utf8')).toContain('note_unencrypted: public note');
  });

  it('--document picks a document of a multi-document YAML file; the others stay as they were', async () => {
    const recipient = /# public key: (age1\S+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;
    const f = await makeSopsFile({ dir: home, name: 'multi.yaml', plain: 'a: one\n---\nb: two\n', recipients: [recipient] });
    expect((await ws(['secret', 'set', '--file', f.path, '--document', '1', 'c'], 'three')).code).toBe(0);
    const d0 = await runCli(['decrypt', '--document', '0', f.path], { env, cwd: home });
    const d1 = await runCli(['decrypt', '--document', '1', f.path], { env, cwd: home });
    expect(d0.stdout).toBe('a: one\n');
    expect(d1.stdout).toBe('b: two\nc: three\n');
    const bad = await ws(['secret', 'set', '--file', f.path, '--document', '5', 'c'], 'x');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${f.path} has 2 document(s), numbered from 0 to 1; there is no document 5`);
    // A file that does not exist yet gets one document: another number is refused, and nothing is created.
    const fresh = join(home, 'fresh-multi.yaml');
    const none = await ws(['secret', 'set', '--file', fresh, '--document', '3', 'c'], 'x');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('does not exist yet, and a new file has one document');
    expect(readdirSync(home).filter((n) => n.startsWith('fresh-multi'))).toEqual([]);
  });

  it('a second file with no .sops.yaml rule takes the main secrets file\'s recipients, and says so', async () => {
    const f = join(home, 'second', 'github.yaml');
    mkdirSync(join(home, 'second'));
    const r = await ws(['secret', 'set', 'token', '--file', f], `${CANARY_2}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: no .sops.yaml creation rule matches ${f}: encrypted to the recipients of ${secrets}`);
    expect(await valueOf('token', f)).toBe(CANARY_2);
    const recipient = /# public key: (age1\S+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;
    expect(readFileSync(f, 'utf8')).toContain(recipient);
    // Without a main secrets file there is nothing to take them from: a usage error saying what to do.
    const lone = await ws(['secret', 'set', 'token', '--file', join(home, 'second', 'other.yaml')], 'v', { XDG_CONFIG_HOME: join(home, 'empty-config') });
    expect(lone.code).toBe(2);
    expect(lone.stderr).toContain('no .sops.yaml creation rule says whom to encrypt it for');
    expect(lone.stderr).toContain('hint: add a .sops.yaml');
  });

  it('writers racing to create the same new file wait for each other: every value lands', async () => {
    const dir = join(home, 'raced');
    mkdirSync(dir);
    const recipient = /# public key: (age1\S+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;
    writeFileSync(join(dir, '.sops.yaml'), `creation_rules:\n  - path_regex: raced\\.yaml$\n    age: ${recipient}\n`);
    const f = join(dir, 'raced.yaml');
    const results = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => ws(['secret', 'set', '--file', f, `k${i}`], `v${i}`)));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(results.filter((r) => r.stderr.includes(`created ${f}`)).length).toBe(1);
    for (let i = 0; i < 6; i++) expect(await valueOf(`k${i}`, f)).toBe(`v${i}`);
  });

  it('takes sops extract paths and refuses the metadata key', async () => {
    expect((await ws(['secret', 'set', '["with.dot"]["inner"]'], 'v')).code).toBe(0);
    expect(await valueOf('["with.dot"]["inner"]')).toBe('v');
    const r = await ws(['secret', 'set', 'sops'], 'v');
    expect(r.code).toBe(2);
  });
});

describe('the value is in no process\'s argv', () => {
  it('while `secret set` runs, no /proc/*/cmdline holds the value', async () => {
    const { spawn } = await import('node:child_process');
    const { CLI, NODE } = await import('../helpers/built-cli.js');
    const child = spawn(NODE, [CLI, 'secret', 'set', 'argv.check'], { env, cwd: home, stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    // The value is written but stdin stays open: the process is alive, holding it, while /proc is scanned.
    child.stdin.write(CANARY_2);
    await new Promise((r) => setTimeout(r, 300));
    let scanned = 0;
    for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      let cmdline: Buffer;
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`);
      } catch {
        continue;
      }
      scanned++;
      expect(cmdline.includes(CANARY_2)).toBe(false);
    }
    expect(scanned).toBeGreaterThan(3);
    child.stdin.end();
    expect(await exited).toBe(0);
  });
});

describe('secret list and rm', () => {
  it('lists names (never values) with the profiles that use them, without needing a key', async () => {
    const r = await ws(['secret', 'list'], undefined, { XDG_CONFIG_HOME: join(home, '.config'), SOPS_AGE_KEY_FILE: '/nonexistent' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^openai\.api_key +codex \(OPENAI_API_KEY\)$/m);
    expect(r.stdout).toMatch(/^two_newlines +-$/m);
    const j = await ws(['secret', 'list', '--json']);
    const rows = JSON.parse(j.stdout) as { name: string; profiles: { profile: string }[] }[];
    expect(rows.find((x) => x.name === 'openai.api_key')?.profiles).toEqual([{ profile: 'codex', variable: 'OPENAI_API_KEY' }]);
  });

  it('removes a name; a missing one is exit 7 and changes nothing', async () => {
    expect((await ws(['secret', 'rm', 'two_newlines'])).code).toBe(0);
    expect((await ws(['secret', 'list'])).stdout).not.toContain('two_newlines');
    const before = readFileSync(secrets);
    const r = await ws(['secret', 'rm', 'no.such.key']);
    expect(r.code).toBe(7);
    expect(readFileSync(secrets).equals(before)).toBe(true);
  });

  it('refuses to remove the one value of a binary file (it would leave a file nothing can decrypt), changing nothing', async () => {
    const dir = join(home, 'binary');
    mkdirSync(dir);
    const recipient = /# public key: (age1\S+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;
    writeFileSync(join(dir, '.sops.yaml'), `creation_rules:\n  - path_regex: \\.bin$\n    age: ${recipient}\n`);
    const f = join(dir, 'blob.bin');
    expect((await ws(['secret', 'set', 'data', '-f', f], 'bytes')).code).toBe(0);
    const before = readFileSync(f);
    const r = await ws(['secret', 'rm', 'data', '-f', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f}: a binary sops file holds one value, "data", which cannot be removed`);
    expect(readFileSync(f).equals(before)).toBe(true);
    expect((await runCli(['decrypt', f], { env, cwd: home })).stdout).toBe('bytes');
  });

  it('a file nobody can open: exit 4, unchanged', async () => {
    const before = readFileSync(secrets);
    // Another HOME's config dir: no key is found anywhere.
    const r = await ws(['secret', 'set', '--file', secrets, 'k'], 'v', { XDG_CONFIG_HOME: join(home, 'empty-config') });
    expect(r.code).toBe(4);
    expect(readFileSync(secrets).equals(before)).toBe(true);
  });

  it('sops-age (an independent reader) decrypts the CLI-written file', async () => {
    const secret = readFileSync(keyFile, 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
    const out = (await decryptSops(readFileSync(secrets, 'utf8'), { fileType: 'yaml', secretKey: secret })) as Record<string, unknown>;
    expect(out['openai']).toEqual({ api_key: CANARY });
  });
});

describe('recipients and rotate', () => {
  let sshDir: string;
  beforeAll(() => {
    sshDir = join(home, 'ssh');
    mkdirSync(sshDir);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test ed25519', '-f', join(sshDir, 'id_ed25519')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-C', 'test rsa', '-f', join(sshDir, 'id_rsa')]);
  });

  it('adds X25519, ssh-ed25519 and ssh-rsa recipients; the real age CLI unwraps every enc with each key', async () => {
    const other = ageKeygen();
    const ed = readFileSync(join(sshDir, 'id_ed25519.pub'), 'utf8').trim();
    const rsa = readFileSync(join(sshDir, 'id_rsa.pub'), 'utf8').trim();
    for (const r of [other.recipient, ed, rsa]) expect((await ws(['recipients', 'add', r])).code).toBe(0);
    const again = await ws(['recipients', 'add', other.recipient]);
    expect(again.stderr).toContain('already a recipient');
    const list = await ws(['recipients', 'list'], undefined, { SOPS_AGE_KEY_FILE: '/nonexistent' });
    expect(list.stdout.trim().split('\n')).toHaveLength(4);
    expect(list.stdout).toContain(ed);
    const text = readFileSync(secrets, 'utf8');
    const encs = [...text.matchAll(/enc: \|\n((?: {12}.*\n)+)/g)].map((m) => m[1]!.replace(/^ {12}/gm, ''));
    expect(encs).toHaveLength(4);
    const otherKey = join(home, 'other.txt');
    writeFileSync(otherKey, `${other.secret}\n`, { mode: 0o600 });
    const identities = [keyFile, otherKey, join(sshDir, 'id_ed25519'), join(sshDir, 'id_rsa')];
    const keys = encs.map((enc, i) => execFileSync('age', ['-d', '-i', identities[i]!], { input: enc }).toString('hex'));
    expect(new Set(keys).size).toBe(1);
    // With-secrets itself opens the file with the SSH key alone.
    const viaSsh = await runCli(['decrypt', '--extract', 'openai.api_key', secrets], {
      env: { ...env, XDG_CONFIG_HOME: join(home, 'none'), SOPS_AGE_SSH_PRIVATE_KEY_FILE: join(sshDir, 'id_ed25519') },
      cwd: home,
    });
    expect(viaSsh.stdout).toBe(CANARY);
  });

  it('rm rotates the data key: the removed key opens nothing; --no-rotate keeps it', async () => {
    const rsaPub = readFileSync(join(sshDir, 'id_rsa.pub'), 'utf8').trim();
    const enc0 = (t: string) => /enc: \|\n((?: {12}.*\n)+)/.exec(t)![1]!.replace(/^ {12}/gm, '');
    const key0 = execFileSync('age', ['-d', '-i', keyFile], { input: enc0(readFileSync(secrets, 'utf8')) }).toString('hex');
    // Removal by type and key alone (the comment is not needed).
    const r = await ws(['recipients', 'rm', rsaPub.split(' ').slice(0, 2).join(' ')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('data key rotated');
    const text = readFileSync(secrets, 'utf8');
    expect(text).not.toContain(rsaPub.split(' ')[1]!);
    const key1 = execFileSync('age', ['-d', '-i', keyFile], { input: enc0(text) }).toString('hex');
    expect(key1).not.toBe(key0);
    expect(await valueOf('openai.api_key')).toBe(CANARY);
    const edPub = readFileSync(join(sshDir, 'id_ed25519.pub'), 'utf8').trim();
    expect((await ws(['recipients', 'rm', '--no-rotate', edPub])).code).toBe(0);
    const key2 = execFileSync('age', ['-d', '-i', keyFile], { input: enc0(readFileSync(secrets, 'utf8')) }).toString('hex');
    expect(key2).toBe(key1);
    const missing = await ws(['recipients', 'rm', edPub]);
    expect(missing.code).toBe(7);
  });

  it('rotate: new data key, every value re-encrypted, values unchanged', async () => {
    const before = readFileSync(secrets, 'utf8');
    const r = await ws(['rotate']);
    expect(r.code).toBe(0);
    const after = readFileSync(secrets, 'utf8');
    for (const m of before.matchAll(/ENC\[[^\]]+\]/g)) expect(after).not.toContain(m[0]);
    expect(await valueOf('openai.api_key')).toBe(CANARY);
    expect(readdirSync(join(home, '.config', 'with-secrets')).sort()).toEqual(['config.yaml', 'secrets.yaml']);
  });
});
