// End to end: identities and tokens in a real OS keyring (gnome-keyring on a private bus) through the built CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, NODE, assertBuilt, runCli, type CliResult } from '../helpers/built-cli.js';
import { canRunKeyringSession, startKeyringSession, type KeyringSession } from '../helpers/keyring-session.js';
import { runInPty } from '../helpers/pty.js';
import { ageKeygen, makeSopsFile } from '../helpers/sops-fixture.js';

const available = canRunKeyringSession();
if (!available) console.warn('skipping keyring e2e tests: dbus-daemon, dbus-send or gnome-keyring-daemon not installed');
const CANARY = 'sk-keyring-canary-5521';

function clean(r: CliResult, ...secrets: string[]): void {
  const all = r.stdout + r.stderr;
  expect(all).not.toMatch(/AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]{20}/);
  expect(all).not.toContain(CANARY);
  for (const s of secrets) expect(all).not.toContain(s.slice(20));
}

describe.skipIf(!available)('keyring e2e: unlocked', () => {
  let s: KeyringSession;
  beforeAll(async () => {
    assertBuilt();
    s = await startKeyringSession('unlocked');
  });
  afterAll(() => s?.stop());

  it('an index that cannot be written leaves no identity in the keyring (generate and init), so the name stays free', async () => {
    // A regular file where the index directory's parent should be: mkdir fails, even for root.
    const blocker = join(mkdtempSync(join(s.env['HOME']!, 'data-')), 'not-a-dir');
    writeFileSync(blocker, '');
    const broken = { ...s.env, XDG_DATA_HOME: join(blocker, 'share') };
    const gen = await runCli(['identity', 'generate', '--keyring', 'blocked'], { env: broken });
    expect(gen.code).toBe(9);
    expect(gen.stderr).toContain('cannot write the identity index (ENOTDIR)');
    expect(gen.stderr).toContain('hint: check that');
    clean(gen);
    const [config, secrets] = [join(blocker, '..', 'c.yaml'), join(blocker, '..', 's.yaml')];
    const init = await runCli(['--config', config, 'init', '--keyring', 'blocked-init', '-f', secrets], { env: broken });
    expect(init.code, init.stderr).toBe(9);
    expect(init.stderr).toContain('cannot write the identity index (ENOTDIR)');
    expect(existsSync(config) || existsSync(secrets)).toBe(false);
    // Both names are free again: nothing was left in the keyring.
    for (const name of ['blocked', 'blocked-init']) {
      const retry = await runCli(['identity', 'generate', '--keyring', name], { env: s.env });
      expect(retry.code, retry.stderr).toBe(0);
      expect((await runCli(['identity', 'rm', name], { env: s.env })).code).toBe(0);
    }
  });

  it('an index write that fails after the keyring took the key takes the key back out (a full disk; here a file-size limit)', () => {
    // Five keys make an index entry far larger than the lock file, so only the index write hits the limit.
    const keys = Array.from({ length: 5 }, () => ageKeygen().secret);
    const file = join(mkdtempSync(join(s.env['HOME']!, 'five-')), 'keys.txt');
    writeFileSync(file, keys.join('\n') + '\n', { mode: 0o600 });
    const r = spawnSync('prlimit', ['--fsize=300', NODE, CLI, 'identity', 'import', '--name', 'toolarge', file], { env: s.env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(9);
    expect(r.stderr).toContain('cannot write the identity index (EFBIG)');
    expect(r.stderr).not.toContain('unlisted');
    expect(execFileSync(NODE, [CLI, 'identity', 'list'], { env: s.env, encoding: 'utf8' })).not.toContain('toolarge');
    const again = spawnSync(NODE, [CLI, 'identity', 'import', '--name', 'toolarge', file], { env: s.env, encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    expect(spawnSync(NODE, [CLI, 'identity', 'rm', 'toolarge'], { env: s.env }).status).toBe(0);
  });

  it('concurrent identity stores wait for each other: every one is listed', async () => {
    const names = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
    const runs = await Promise.all(names.map((n) => runCli(['identity', 'generate', '--keyring', n], { env: s.env })));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const list = (await runCli(['identity', 'list'], { env: s.env })).stdout;
    for (const n of names) expect(list).toMatch(new RegExp(`^${n}\\t`, 'm'));
    const same = await Promise.all([1, 2, 3].map(() => runCli(['identity', 'generate', '--keyring', 'twice'], { env: s.env })));
    expect(same.map((r) => r.code).sort()).toEqual([0, 9, 9]);
    for (const n of [...names, 'twice']) expect((await runCli(['identity', 'rm', n], { env: s.env })).code).toBe(0);
  });

  it('identity generate --keyring, list, doctor opens a file with {keyring: NAME}, rm', async () => {
    const gen = await runCli(['identity', 'generate', '--keyring', 'work'], { env: s.env });
    expect(gen.code, gen.stderr).toBe(0);
    clean(gen);
    const recipient = gen.stdout.trim();
    expect(recipient).toMatch(/^age1/);
    expect(existsSync(join(s.env['HOME']!, '.config/sops/age/keys.txt'))).toBe(false);
    const again = await runCli(['identity', 'generate', '--keyring', 'work'], { env: s.env });
    expect(again.code).toBe(9);
    expect(again.stderr).toContain('already holds an identity');

    const list = await runCli(['identity', 'list'], { env: s.env });
    expect(list.stdout).toBe(`work\t${recipient}\n`);

    const dir = mkdtempSync(join(s.env['HOME']!, 'cfg-'));
    const f = await makeSopsFile({ dir, name: 'secrets.yaml', plain: `tok: ${CANARY}\n`, recipients: [recipient] });
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ version: 1, sopsFile: f.path, identities: [{ keyring: 'work' }], profiles: {} }));
    const doc = await runCli(['--config', config, 'doctor'], { env: s.env });
    expect(doc.stdout).toContain(`keyring: work: 1 identity\n      ${recipient}`);
    expect(doc.stdout).toContain(`${f.path}: opened by keyring: work`);
    expect(doc.stdout).toContain(`work: in the keyring\n      ${recipient}`);
    expect(doc.code, doc.stdout).toBe(0);
    clean(doc);

    const rm = await runCli(['identity', 'rm', 'work'], { env: s.env });
    expect(rm.code).toBe(0);
    expect((await runCli(['identity', 'list'], { env: s.env })).stdout).toBe('');
    const rm2 = await runCli(['identity', 'rm', 'work'], { env: s.env });
    expect(rm2.code).toBe(8);
    expect(rm2.stderr).toContain('no such item');
  });

  it('identity import FILE and from stdin; secret-tool reads the stored key file', async () => {
    const k = ageKeygen();
    const dir = mkdtempSync(join(s.env['HOME']!, 'imp-'));
    const file = join(dir, 'k.txt');
    writeFileSync(file, `# mine\n${k.secret}\n`, { mode: 0o600 });
    const r = await runCli(['identity', 'import', '--name', 'imp', file], { env: s.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${k.recipient}\n`);
    clean(r, k.secret);
    expect(execFileSync('secret-tool', ['lookup', 'service', 'with-secrets-identity', 'account', 'imp'], { env: s.env, encoding: 'utf8' })).toBe(`# mine\n${k.secret}\n`);
    const k2 = ageKeygen();
    const r2 = await runCli(['identity', 'import', '--name', 'piped', '-'], { env: s.env, input: `${k2.secret}\n` });
    expect(r2.stdout).toBe(`${k2.recipient}\n`);
    const bad = await runCli(['identity', 'import', '--name', 'bad', '-'], { env: s.env, input: `${CANARY}\n` });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('standard input: line 1 is not an age identity');
    clean(bad);
  });

  it('keyring set from stdin (one newline dropped), secret-tool agrees, empty refused, rm', async () => {
    const set = await runCli(['keyring', 'set', 'openai'], { env: s.env, input: `${CANARY}\n` });
    expect(set.code, set.stderr).toBe(0);
    clean(set);
    expect(execFileSync('secret-tool', ['lookup', 'service', 'with-secrets', 'account', 'openai'], { env: s.env, encoding: 'utf8' })).toBe(CANARY);
    const empty = await runCli(['keyring', 'set', 'openai'], { env: s.env, input: '\n' });
    expect(empty.code).toBe(2);
    expect(execFileSync('secret-tool', ['lookup', 'service', 'with-secrets', 'account', 'openai'], { env: s.env, encoding: 'utf8' })).toBe(CANARY);
    expect((await runCli(['keyring', 'rm', 'openai'], { env: s.env })).code).toBe(0);
    const gone = await runCli(['keyring', 'rm', 'openai'], { env: s.env });
    expect(gone.code).toBe(8);
    expect(gone.stderr).toContain('no such item in the OS keyring (service with-secrets, account openai)');
    const help = await runCli(['keyring', '--help'], { env: s.env });
    expect(help.stdout).not.toMatch(/\bget\b/);
  });

  it('keyring set refuses what no environment variable can carry (NUL, bytes that are not UTF-8), storing nothing; prints a pasteable reference', async () => {
    for (const [what, input] of [['NUL', Buffer.from('abc\0def')], ['UTF-8', Buffer.from([0x61, 0x62, 0xff, 0x63])]] as const) {
      const r = spawnSync(NODE, [CLI, 'keyring', 'set', 'unfit'], { env: s.env, input, encoding: 'utf8' });
      expect(r.status, what).toBe(2);
      expect(r.stderr, what).toContain(what === 'NUL' ? 'contains a NUL byte' : 'is not UTF-8 text');
      expect(spawnSync('secret-tool', ['lookup', 'service', 'with-secrets', 'account', 'unfit'], { env: s.env }).status, what).not.toBe(0);
    }
    const at = await runCli(['keyring', 'set', '@work'], { env: s.env, input: 'v' });
    expect(at.code, at.stderr).toBe(0);
    expect(at.stderr).toContain('(use it as {keyring: "@work"})');
    expect((await runCli(['keyring', 'rm', '@work'], { env: s.env })).code).toBe(0);
  });

  it('keyring set on a terminal prompts without echo', async () => {
    const r = await runInPty([NODE, CLI, 'keyring', 'set', 'tty-tok'], [{ expect: 'Value for tty-tok: ', send: `${CANARY}\r` }], s.env, 30_000);
    expect(r.code, r.output).toBe(0);
    expect(r.output).not.toContain(CANARY);
    expect(execFileSync('secret-tool', ['lookup', 'service', 'with-secrets', 'account', 'tty-tok'], { env: s.env, encoding: 'utf8' })).toBe(CANARY);
  });
});

describe.skipIf(!available)('keyring e2e: locked and unavailable', () => {
  let s: KeyringSession;
  beforeAll(async () => {
    assertBuilt();
    s = await startKeyringSession('unlocked');
    expect((await runCli(['identity', 'generate', '--keyring', 'id'], { env: s.env })).code).toBe(0);
    s.lock();
  });
  afterAll(() => s?.stop());

  it('locked: exit 8 telling the user to unlock, the index kept', async () => {
    for (const args of [['keyring', 'set', 'x'], ['identity', 'rm', 'id'], ['identity', 'generate', '--keyring', 'other']]) {
      const r = await runCli(args, { env: s.env, input: 'value' });
      expect(r.code, args.join(' ')).toBe(8);
      expect(r.stderr).toContain('the OS keyring is locked');
      expect(r.stderr).toContain('unlock your keyring');
    }
    expect((await runCli(['identity', 'list'], { env: s.env })).stdout).toMatch(/^id\tage1/);
  });

  it('no bus: exit 8 naming what is missing, and no key written anywhere', async () => {
    const home = mkdtempSync(join(s.env['HOME']!, 'nobus-'));
    const env = { PATH: process.env['PATH'], HOME: home, XDG_RUNTIME_DIR: home };
    const r = await runCli(['identity', 'generate', '--keyring', 'k'], { env });
    expect(r.code).toBe(8);
    expect(r.stderr).toContain('no D-Bus session bus');
    expect(existsSync(join(home, '.local/share/with-secrets/identities.json'))).toBe(false);
    expect(existsSync(join(home, '.config/sops/age/keys.txt'))).toBe(false);
    clean(r);
    rmSync(home, { recursive: true, force: true });
  });
});

describe('keyring e2e: tokens never printed', () => {
  it('there is no `keyring get`', async () => {
    assertBuilt();
    const r = await runCli(['keyring', 'get', 'x'], { env: { PATH: process.env['PATH'], HOME: '/nonexistent' } });
    expect(r.code).toBe(2);
    expect(readFileSync(CLI, 'utf8').length).toBeGreaterThan(0);
  });
});
