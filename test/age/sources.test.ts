// Tests the identity provider: sops' source order, lazy single loading, reports and file safety.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIdentityProvider, defaultKeyFilePath } from '../../src/age/sources.js';
import type { LoadedSource } from '../../src/age/provider.js';
import { isDescribedIdentity } from '../../src/age/age-key-identity.js';

function ageKeygen(): { secret: string; recipient: string; file: string } {
  const file = execFileSync('age-keygen', [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return {
    file,
    secret: file.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!,
    recipient: /# public key: (age1\S+)/.exec(file)![1]!,
  };
}

async function collect(it: AsyncIterable<LoadedSource>): Promise<LoadedSource[]> {
  const out: LoadedSource[] = [];
  for await (const s of it) out.push(s);
  return out;
}

async function recipientsOf(s: LoadedSource): Promise<string[]> {
  return Promise.all(s.identities.map((i) => (isDescribedIdentity(i) ? i.recipient() : Promise.resolve('?'))));
}

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'ws-sources-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function writeKey(path: string, content: string, mode = 0o600): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
  return path;
}

describe('createIdentityProvider', () => {
  it('puts the SOPS_AGE_* variables first, in sops order, then the default keys.txt', async () => {
    const [k1, k2, k3, k4] = [ageKeygen(), ageKeygen(), ageKeygen(), ageKeygen()];
    const keyFile = writeKey(join(home, 'k2.txt'), k2.file);
    writeKey(join(home, '.config/sops/age/keys.txt'), k4.file);
    const notes: string[] = [];
    const p = createIdentityProvider({
      env: {
        SOPS_AGE_KEY_CMD: `printf '%s\\n' '${k3.secret}'`,
        SOPS_AGE_KEY_FILE: keyFile,
        SOPS_AGE_KEY: k1.secret,
        PATH: process.env['PATH'],
      },
      homeDir: home,
      interactive: false,
      notes: (m) => notes.push(m),
    });
    const sources = await collect(p.sources());
    expect(sources.map((s) => s.label)).toEqual([
      'SOPS_AGE_KEY',
      `SOPS_AGE_KEY_FILE (${keyFile})`,
      'SOPS_AGE_KEY_CMD',
      join(home, '.config/sops/age/keys.txt'),
    ]);
    expect(await Promise.all(sources.map(recipientsOf))).toEqual([[k1.recipient], [k2.recipient], [k3.recipient], [k4.recipient]]);
    expect(p.report()).toEqual([
      'SOPS_AGE_KEY: 1 identity',
      `SOPS_AGE_KEY_FILE (${keyFile}): 1 identity`,
      'SOPS_AGE_KEY_CMD: 1 identity',
      `${join(home, '.config/sops/age/keys.txt')}: 1 identity`,
      `${join(home, '.ssh/id_ed25519')}: not found`,
      `${join(home, '.ssh/id_rsa')}: not found`,
    ]);
    expect(notes).toEqual([]);
    const all = [p.report().join('\n'), notes.join('\n')].join('\n');
    for (const k of [k1, k2, k3, k4]) expect(all).not.toContain(k.secret.slice(16));
  });

  it('loads lazily and at most once: a key command runs once across several passes', async () => {
    const k = ageKeygen();
    const counter = join(home, 'count');
    const script = writeKey(join(home, 'cmd.sh'), `#!/bin/sh\necho x >> '${counter}'\necho '${k.secret}'\n`, 0o700);
    const p = createIdentityProvider({ env: { SOPS_AGE_KEY_CMD: script }, homeDir: home, interactive: false, notes: () => {} });
    expect(p.report()).toEqual([]);
    const it1 = p.sources()[Symbol.asyncIterator]();
    await it1.next();
    await collect(p.sources());
    await collect(p.sources());
    expect(readFileSync(counter, 'utf8')).toBe('x\n');
    // Nothing after the first source was loaded by the first, partial pass; the later full passes did.
    expect(p.report()[0]).toBe('SOPS_AGE_KEY_CMD: 1 identity');
  });

  it('uses the config identities instead of the defaults, in their order', async () => {
    const [a, b] = [ageKeygen(), ageKeygen()];
    writeKey(join(home, '.config/sops/age/keys.txt'), ageKeygen().file);
    writeKey(join(home, 'cfg/b.txt'), b.file);
    const p = createIdentityProvider({
      env: { PATH: process.env['PATH'] },
      homeDir: home,
      baseDir: join(home, 'cfg'),
      specs: [{ command: ['/bin/echo', a.secret] }, { file: 'b.txt' }, { file: '~/missing.txt' }],
      interactive: false,
      notes: () => {},
    });
    const sources = await collect(p.sources());
    expect(await Promise.all(sources.map(recipientsOf))).toEqual([[a.recipient], [b.recipient]]);
    expect(p.report()).toEqual([
      'command: /bin/echo: 1 identity',
      `file: ${join(home, 'cfg/b.txt')}: 1 identity`,
      `file: ${join(home, 'missing.txt')}: failed: file not found`,
    ]);
    expect(p.failures().map((e) => e.code)).toEqual(['io']);
  });

  it('reports a malformed explicit source and goes on to the next', async () => {
    const k = ageKeygen();
    const bad = writeKey(join(home, 'bad.txt'), `# ok\nCANARY-SECRET-LINE\n`);
    writeKey(join(home, '.config/sops/age/keys.txt'), k.file);
    const notes: string[] = [];
    const p = createIdentityProvider({ env: { SOPS_AGE_KEY_FILE: bad }, homeDir: home, interactive: false, notes: (m) => notes.push(m) });
    const sources = await collect(p.sources());
    expect(sources).toHaveLength(1);
    expect(p.report()[0]).toBe(`SOPS_AGE_KEY_FILE (${bad}): failed: line 2 is not an age identity`);
    expect(p.failures()[0]!.code).toBe('identity-invalid');
    expect(notes.join('\n')).toContain('line 2');
    expect(notes.join('\n') + p.report().join('\n')).not.toContain('CANARY');
  });

  it('refuses key files others can write, warns about ones others can read', async () => {
    const k = ageKeygen();
    const writable = writeKey(join(home, 'w.txt'), k.file, 0o620);
    const readable = writeKey(join(home, 'r.txt'), k.file, 0o644);
    const notes: string[] = [];
    const p = createIdentityProvider({
      env: {},
      homeDir: home,
      specs: [{ file: writable }, { file: readable }],
      interactive: false,
      notes: (m) => notes.push(m),
    });
    const sources = await collect(p.sources());
    expect(sources.map((s) => s.label)).toEqual([`file: ${readable}`]);
    expect(p.failures()[0]!.code).toBe('permission');
    expect(p.report()[0]).toContain('writable by group, refused');
    expect(notes.join('\n')).toContain(`chmod 600 '${readable}'`);
  });

  it('refuses a key file owned by another user', async () => {
    const k = ageKeygen();
    const f = writeKey(join(home, 'k.txt'), k.file);
    const p = createIdentityProvider({ env: {}, homeDir: home, specs: [{ file: f }], interactive: false, notes: () => {}, uid: 4242 });
    expect(await collect(p.sources())).toEqual([]);
    expect(p.failures()[0]!.message).toContain('owned by another user');
  });

  it('skips default SSH keys it cannot use without a warning, noting it under verbose', async () => {
    writeKey(join(home, '.ssh/id_ed25519'), 'not a key\n');
    const notes: string[] = [];
    const verbose: string[] = [];
    const p = createIdentityProvider({ env: {}, homeDir: home, interactive: false, notes: (m) => notes.push(m), verbose: (m) => verbose.push(m) });
    expect(await collect(p.sources())).toEqual([]);
    expect(notes).toEqual([]);
    expect(verbose.join('\n')).toContain('id_ed25519: skipped');
  });

  it('finds sops keys.txt where sops does', () => {
    expect(defaultKeyFilePath({ XDG_CONFIG_HOME: '/x' }, '/h')).toBe('/x/sops/age/keys.txt');
    expect(defaultKeyFilePath({ XDG_CONFIG_HOME: '' }, '/h')).toBe('/h/.config/sops/age/keys.txt');
    expect(defaultKeyFilePath({}, '/h', 'darwin')).toBe('/h/Library/Application Support/sops/age/keys.txt');
  });

  it('uses ~/.ssh/id_ed25519 and id_rsa by default, skipping an encrypted one silently', async () => {
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'pass-word', '-f', join(home, '.ssh/id_ed25519')], { stdio: 'ignore' });
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', join(home, '.ssh/id_rsa')], { stdio: 'ignore' });
    const notes: string[] = [];
    const verbose: string[] = [];
    const p = createIdentityProvider({ env: {}, homeDir: home, interactive: true, notes: (m) => notes.push(m), verbose: (m) => verbose.push(m) });
    const sources = await collect(p.sources());
    expect(sources.map((s) => s.label)).toEqual([join(home, '.ssh/id_rsa')]);
    expect(await recipientsOf(sources[0]!)).toEqual([readFileSync(join(home, '.ssh/id_rsa.pub'), 'utf8').split(' ').slice(0, 2).join(' ')]);
    expect(notes).toEqual([]);
    expect(verbose.join('\n')).toContain('id_ed25519: skipped');
    expect(verbose.join('\n')).toContain('passphrase-protected');
  });

  it('SOPS_AGE_SSH_PRIVATE_KEY_FILE: an encrypted key is a reported failure naming the alternatives', async () => {
    const key = join(home, 'sshkey');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'pass-word', '-f', key], { stdio: 'ignore' });
    const notes: string[] = [];
    const p = createIdentityProvider({ env: { SOPS_AGE_SSH_PRIVATE_KEY_FILE: key }, homeDir: home, interactive: false, notes: (m) => notes.push(m) });
    await collect(p.sources());
    expect(p.failures()[0]!.hint).toContain('SOPS_AGE_KEY_CMD');
    expect(notes.join('\n')).toContain('passphrase-protected');
  });
});
