// The OS keyring against a real Secret Service (gnome-keyring on a private bus) in every state it can be in.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKeyringSecret, removeKeyringSecret, setKeyringSecret } from '../../src/keyring/tokens.js';
import { identityIndexPath, readIdentityIndex, readKeyringIdentity } from '../../src/keyring/identity-store.js';
import { removeKeyringIdentity, storeKeyringIdentity } from '../../src/keyring/identity-changes.js';
import { createIdentityProvider } from '../../src/age/sources.js';
import { isDescribedIdentity } from '../../src/age/age-key-identity.js';
import { WithSecretsError } from '../../src/errors.js';
import { CLI } from '../helpers/built-cli.js';
import { canRunKeyringSession, startKeyringSession, type KeyringMode, type KeyringSession } from '../helpers/keyring-session.js';

const available = canRunKeyringSession();
if (!available) console.warn('skipping keyring tests: dbus-daemon, dbus-send or gnome-keyring-daemon not installed');
const CANARY = 'CANARY-TOKEN-7f3a91';

async function failure(p: Promise<unknown>): Promise<WithSecretsError> {
  const started = Date.now();
  const e = await p.then(
    () => new Error('expected a failure'),
    (x: unknown) => x,
  );
  timings.push(`${currentMode}: ${Date.now() - started} ms`);
  if (!(e instanceof WithSecretsError)) throw e;
  expect(`${e.message}\n${e.hint ?? ''}`).not.toContain(CANARY);
  return e;
}
const timings: string[] = [];
let currentMode = '';
afterAll(() => console.info(`keyring call timings (failures): ${timings.join('; ')}`));

/** Keyring worker processes (their argv holds the worker script) whose environment names this D-Bus address. */
function workersOn(busAddress: string): string[] {
  const pids = spawnSync('pgrep', ['-f', 'keytarPath'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`DBUS_SESSION_BUS_ADDRESS=${busAddress}`);
    } catch {
      return false; // gone meanwhile
    }
  });
}

function secretTool(env: Record<string, string | undefined>, args: string[], input?: string): string {
  return execFileSync('secret-tool', args, { env, encoding: 'utf8', input, timeout: 10_000 });
}

describe.skipIf(!available)('keyring: unlocked', () => {
  let s: KeyringSession;
  beforeAll(async () => {
    s = await startKeyringSession('unlocked');
    currentMode = 'unlocked';
  });
  afterAll(() => s?.stop());

  it('sets, reads and removes a token; secret-tool sees the same item', async () => {
    await setKeyringSecret('openai', CANARY, { env: s.env });
    expect(await readKeyringSecret('openai', { env: s.env })).toBe(CANARY);
    expect(secretTool(s.env, ['lookup', 'service', 'with-secrets', 'account', 'openai'])).toBe(CANARY);
    await setKeyringSecret('openai', `${CANARY}-2`, { env: s.env });
    expect(await readKeyringSecret('openai', { env: s.env })).toBe(`${CANARY}-2`);
    await removeKeyringSecret('openai', { env: s.env });
    const e = await failure(readKeyringSecret('openai', { env: s.env }));
    expect(e.code).toBe('keyring-not-found');
    expect(e.message).toContain('service with-secrets, account openai');
    expect((await failure(removeKeyringSecret('openai', { env: s.env }))).code).toBe('keyring-not-found');
  });

  it("reads tokens that secret-tool stored with keytar's xdg:schema (one trailing newline dropped)", async () => {
    // keytar looks items up by its schema name, so secret-tool must be given the xdg:schema attribute.
    secretTool(s.env, ['store', '--label=gh', 'service', 'with-secrets', 'account', 'gh', 'xdg:schema', 'org.freedesktop.Secret.Generic'], `${CANARY}\n`);
    secretTool(s.env, ['store', '--label=gl', 'service', 'with-secrets', 'account', 'gl', 'xdg:schema', 'org.freedesktop.Secret.Generic'], CANARY);
    expect(await readKeyringSecret('gh', { env: s.env })).toBe(CANARY);
    expect(await readKeyringSecret('gl', { env: s.env })).toBe(CANARY);
  });

  it('stores an identity, lists it in a 0600 index without key material, refuses to overwrite, removes it', async () => {
    const keyFile = execFileSync('age-keygen', [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const recipient = /public key: (\S+)/.exec(keyFile)![1]!;
    const secret = keyFile.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;
    const opts = { env: s.env, homeDir: s.env['HOME']! };
    await storeKeyringIdentity('work', keyFile, [recipient], opts);
    const indexPath = identityIndexPath(s.env, opts.homeDir);
    expect(indexPath).toBe(join(opts.homeDir, '.local/share/with-secrets/identities.json'));
    expect(statSync(indexPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(indexPath, 'utf8')).not.toContain(secret.slice(16));
    expect((await readIdentityIndex(s.env, opts.homeDir)).map((e) => [e.name, e.recipients])).toEqual([['work', [recipient]]]);
    expect(secretTool(s.env, ['lookup', 'service', 'with-secrets-identity', 'account', 'work'])).toBe(keyFile);
    expect((await failure(storeKeyringIdentity('work', keyFile, [recipient], opts))).code).toBe('exists');

    // The provider reads it for `identities: [{keyring: work}]`.
    const p = createIdentityProvider({ env: s.env, homeDir: opts.homeDir, specs: [{ keyring: 'work' }], interactive: false, notes: () => {} });
    const got: string[] = [];
    for await (const src of p.sources()) for (const id of src.identities) if (isDescribedIdentity(id)) got.push(await id.recipient());
    expect(got).toEqual([recipient]);
    expect(p.report()).toEqual(['keyring: work: 1 identity']);

    await removeKeyringIdentity('work', opts);
    expect(await readIdentityIndex(s.env, opts.homeDir)).toEqual([]);
    expect((await failure(readKeyringIdentity('work', { env: s.env }))).code).toBe('keyring-not-found');
  });

  it('times out on a Secret Service that never answers, and the worker is gone', async () => {
    await setKeyringSecret('frozen', CANARY, { env: s.env });
    s.freeze();
    try {
      const e = await failure(readKeyringSecret('frozen', { env: s.env, timeoutMs: 1500 }));
      expect(e.code).toBe('keyring-unavailable');
      expect(e.message).toContain('did not answer within 1.5 s');
      // No worker of this session left running: it was killed, not abandoned. Checked while the service
      // is still frozen (an abandoned worker would be stuck on it), and only this session's workers:
      // other test files run keyring workers of their own at the same time.
      const deadline = Date.now() + 2000;
      while (workersOn(s.env['DBUS_SESSION_BUS_ADDRESS']!).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(workersOn(s.env['DBUS_SESSION_BUS_ADDRESS']!)).toEqual([]);
    } finally {
      s.thaw();
    }
    expect(await readKeyringSecret('frozen', { env: s.env })).toBe(CANARY);
  });

  it('the keyring worker never sees with-secrets\' own key inputs (SOPS_AGE_*)', async () => {
    const bus = s.env['DBUS_SESSION_BUS_ADDRESS']!;
    s.freeze();
    try {
      // A frozen service keeps the worker waiting long enough to read its environment (with-secrets kills it after 3 s).
      let worker: string | undefined;
      let cli: ReturnType<typeof spawn> | undefined;
      for (let attempt = 0; attempt < 3 && worker === undefined; attempt++) {
        cli?.kill('SIGKILL');
        cli = spawn(process.execPath, [CLI, 'keyring', 'set', 'envcheck'], { env: { ...s.env, SOPS_AGE_KEY: 'AGE-SECRET-KEY-1CANARYNOTAKEY' }, stdio: ['pipe', 'ignore', 'ignore'] });
        cli.stdin!.end('value\n');
        const deadline = Date.now() + 2500;
        while (workersOn(bus).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
        worker = workersOn(bus)[0];
      }
      expect(worker).toBeDefined();
      const environ = readFileSync(`/proc/${worker}/environ`, 'latin1');
      expect(environ).toContain(`DBUS_SESSION_BUS_ADDRESS=${bus}`);
      expect(environ).not.toContain('SOPS_AGE_KEY');
      cli!.kill('SIGKILL');
      process.kill(Number(worker), 'SIGKILL');
    } finally {
      s.thaw();
    }
  });
});

describe.skipIf(!available)('keyring: locked', () => {
  let s: KeyringSession;
  beforeAll(async () => {
    s = await startKeyringSession('unlocked');
    currentMode = 'locked';
    await setKeyringSecret('tok', CANARY, { env: s.env });
    await storeKeyringIdentity('id', execFileSync('age-keygen', [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), ['age1x'], { env: s.env, homeDir: s.env['HOME']! });
    s.lock();
  });
  afterAll(() => s?.stop());

  it('reports locked, not "not found", for read, write and remove', async () => {
    for (const p of [
      () => readKeyringSecret('tok', { env: s.env }),
      () => readKeyringSecret('never-stored', { env: s.env }),
      () => setKeyringSecret('tok2', CANARY, { env: s.env }),
      () => removeKeyringSecret('tok', { env: s.env }),
      () => readKeyringIdentity('id', { env: s.env }),
    ]) {
      const e = await failure(p());
      expect(e.code).toBe('keyring-locked');
      expect(e.hint).toContain('unlock your keyring');
    }
  });

  it('a keyring identity source is reported as failed with the locked error', async () => {
    const p = createIdentityProvider({ env: s.env, homeDir: s.env['HOME']!, specs: [{ keyring: 'id' }], interactive: false, notes: () => {} });
    for await (const _ of p.sources()) void _;
    expect(p.failures().map((e) => e.code)).toEqual(['keyring-locked']);
  });

  it('`identity rm` on a locked keyring keeps the index entry', async () => {
    const opts = { env: s.env, homeDir: s.env['HOME']! };
    expect((await failure(removeKeyringIdentity('id', opts))).code).toBe('keyring-locked');
    expect((await readIdentityIndex(s.env, opts.homeDir)).map((e) => e.name)).toEqual(['id']);
  });
});

describe.skipIf(!available).each(['no-provider', 'no-bus'] as KeyringMode[])('keyring: %s', (mode) => {
  let s: KeyringSession;
  beforeAll(async () => {
    s = await startKeyringSession(mode);
    currentMode = mode;
  });
  afterAll(() => s?.stop());

  it('every call fails with keyring-unavailable saying what is missing', async () => {
    const what = mode === 'no-bus' ? 'no D-Bus session bus' : 'no Secret Service';
    for (const p of [() => readKeyringSecret('x', { env: s.env }), () => setKeyringSecret('x', CANARY, { env: s.env }), () => removeKeyringSecret('x', { env: s.env })]) {
      const e = await failure(p());
      expect(e.code).toBe('keyring-unavailable');
      expect(e.message).toContain(what);
    }
  });
});

describe('keyring names', () => {
  it('refuses names that are not plain words', async () => {
    for (const bad of ['', '-x', 'a b', 'x'.repeat(129), 'a\nb']) {
      expect((await failure(readKeyringSecret(bad, { env: {} }))).code).toBe('usage');
    }
  });
});

describe('keyring helper failures', () => {
  it('a keytar that cannot load libsecret, or a missing native module, is named with the fix', async () => {
    const { mkdtempSync, writeFileSync, chmodSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'ws-fake-node-'));
    // A stand-in for node that answers as the worker does when require('keytar') throws.
    const fake = (name: string, message: string): string => {
      const p = join(dir, name);
      writeFileSync(p, `#!/bin/sh\ncat >/dev/null\nprintf '%s' '${JSON.stringify({ ok: false, stage: 'load', message })}'\n`);
      chmodSync(p, 0o755);
      return p;
    };
    const lib = await failure(readKeyringSecret('x', { env: {}, nodePath: fake('a', 'libsecret-1.so.0: cannot open shared object file') }));
    expect(lib.code).toBe('keyring-unavailable');
    expect(lib.message).toContain('keytar cannot load libsecret');
    const mod = await failure(readKeyringSecret('x', { env: {}, nodePath: fake('b', "Cannot find module '../build/Release/keytar.node'") }));
    expect(mod.message).toContain("keytar's native module does not load");
    expect(mod.hint).toContain('npm rebuild keytar');
    const crash = await failure(readKeyringSecret('x', { env: {}, nodePath: '/bin/false' }));
    expect(crash.message).toContain('the keyring helper process failed');
  });
});
