// Permissions: key files others can write are refused, readable ones warned; key paths through directories another user can change are refused.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WithSecretsError } from '../../src/errors.js';
import { checkPathSafety } from '../../src/fs/path-safety.js';
import { makeWorld, runCli } from '../e2e/launch-harness.js';
import { makeSopsFile } from '../helpers/sops-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'ws-perm-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const uid = process.getuid?.() ?? 0;

/** A directory with the given mode (and owner), holding a file `f`. */
function dirWith(name: string, mode: number, owner?: { uid: number; gid: number }): string {
  const d = join(root, name);
  mkdirSync(d);
  writeFileSync(join(d, 'f'), 'x', { mode: 0o600 });
  if (owner) chownSync(d, owner.uid, owner.gid);
  chmodSync(d, mode);
  return join(d, 'f');
}

async function refused(path: string): Promise<string> {
  try {
    await checkPathSafety(path, uid);
  } catch (e) {
    expect(e).toBeInstanceOf(WithSecretsError);
    expect((e as WithSecretsError).code).toBe('permission');
    return (e as Error).message;
  }
  throw new Error(`${path} was accepted`);
}

describe('checkPathSafety', () => {
  it('accepts private directories and sticky shared ones (/tmp) holding an entry of ours', async () => {
    await checkPathSafety(dirWith('private', 0o700), uid);
    await checkPathSafety(dirWith('readable', 0o755), uid);
    const sticky = join(root, 'sticky');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    mkdirSync(join(sticky, 'mine'));
    await checkPathSafety(join(sticky, 'mine', 'keys.txt'), uid);
  });

  it('refuses a directory others or its group can write, or another user owns', async () => {
    expect(await refused(dirWith('world', 0o777))).toMatch(/writable by others \(mode 777\)/);
    expect(await refused(dirWith('group', 0o770, { uid, gid: 4242 }))).toMatch(/writable by its group/);
    expect(await refused(dirWith('theirs', 0o755, { uid: 4242, gid: 4242 }))).toMatch(/belongs to another user \(uid 4242\)/);
  });

  it('accepts a group-writable directory of the owner\'s private group only while nobody else is in that group', async () => {
    const f = dirWith('upg', 0o775, { uid, gid: uid });
    const accounts = (passwd: string, group: string) => {
      const d = mkdtempSync(join(root, 'accounts-'));
      writeFileSync(join(d, 'passwd'), passwd);
      writeFileSync(join(d, 'group'), group);
      return { passwd: join(d, 'passwd'), group: join(d, 'group') };
    };
    const me = `me:x:${uid}:${uid}::/home/me:/bin/sh\n`;
    await checkPathSafety(f, uid, accounts(me, `me:x:${uid}:\n`));
    await checkPathSafety(f, uid, accounts(me, `me:x:${uid}:me\n`));
    for (const [passwd, group] of [
      [me, `me:x:${uid}:me,bob\n`],
      [`${me}bob:x:4242:${uid}::/home/bob:/bin/sh\n`, `me:x:${uid}:\n`],
    ] as const) {
      await expect(checkPathSafety(f, uid, accounts(passwd, group))).rejects.toThrow(/is writable by its group \(mode 775\)/);
    }
  });

  it('refuses an entry another user made in a sticky shared directory', async () => {
    const sticky = join(root, 'sticky2');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    mkdirSync(join(sticky, 'planted'));
    chownSync(join(sticky, 'planted'), 4242, 4242);
    expect(await refused(join(sticky, 'planted', 'keys.txt'))).toMatch(/made by another user/);
  });

  it('follows symbolic links: a safe-looking path into an unsafe directory is refused', async () => {
    const target = dirWith('world2', 0o777);
    const safe = join(root, 'safe');
    mkdirSync(safe, { mode: 0o700 });
    symlinkSync(join(root, 'world2'), join(safe, 'link'));
    expect(await refused(join(safe, 'link', 'f'))).toContain(join(root, 'world2'));
    expect(target).toBeTruthy();
  });

  it('refuses a path whose links resolve past PATH_MAX (realpath fails while open would still follow them)', async () => {
    const base = join(root, 'deep');
    mkdirSync(base);
    const level = (c: string, n: number): string => Array.from({ length: n }, (_, i) => `${c}${i}`.padEnd(200, c)).join('/');
    mkdirSync(join(base, level('a', 10)), { recursive: true });
    symlinkSync(level('a', 10), join(base, 's0'));
    mkdirSync(join(base, 's0', level('b', 11)), { recursive: true });
    symlinkSync(level('b', 11), join(base, 's0', 's1'));
    const file = join(base, 's0', 's1', 'secrets.yaml');
    try {
      writeFileSync(file, 'x', { mode: 0o600 });
      expect(readFileSync(file, 'utf8')).toBe('x');
      expect(await refused(file)).toMatch(/its symbolic links cannot be followed to check them \(ENAMETOOLONG\)/);
    } finally {
      // The deepest part only through the link: its full path is too long to remove.
      rmSync(join(base, 's0', level('b', 1)), { recursive: true, force: true });
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('key files through the CLI', () => {
  it('a key file in a world-writable directory is refused with the directory and the fix; 0644 is a warning; 0666 refused', async () => {
    const w = makeWorld();
    try {
      const secrets = await w.sops('s.yaml', 'tok: v1\n');
      const child = w.exe(w.bin, 'perm-child', '#!/bin/sh\nprintf "%s" "$T"\n');
      w.config({ version: 1, sopsFile: secrets, profiles: { 'perm-child': { command: child, env: { T: 'tok' } } } });
      const keyDir = join(w.home, '.config', 'sops', 'age');
      chmodSync(keyDir, 0o777);
      const bad = await runCli(['perm-child'], { env: w.env() });
      expect(bad.code).toBe(125);
      expect(bad.stderr).toContain(`directory ${keyDir} is writable by others`);
      expect(bad.stderr).toContain(`chmod go-w '${keyDir}'`);
      chmodSync(keyDir, 0o700);
      const key = join(keyDir, 'keys.txt');
      chmodSync(key, 0o644);
      const warned = await runCli(['perm-child'], { env: w.env() });
      expect(warned.code).toBe(0);
      expect(warned.stdout).toBe('v1');
      expect(warned.stderr).toContain(`chmod 600 '${key}'`);
      chmodSync(key, 0o666);
      const writable = await runCli(['perm-child'], { env: w.env() });
      expect(writable.code).toBe(125);
      expect(writable.stderr).toMatch(/writable by (group|others), refused/);
    } finally {
      w.cleanup();
    }
  });
});

describe('secret files through the CLI', () => {
  it('a secrets file in a world-writable directory is refused; a private one works', async () => {
    const w = makeWorld();
    try {
      const shared = join(w.root, 'shared');
      mkdirSync(shared);
      const secrets = (await makeSopsFile({ dir: shared, name: 's.yaml', plain: 'tok: v2\n', recipients: [w.recipient] })).path;
      const child = w.exe(w.bin, 'perm-child2', '#!/bin/sh\nprintf "%s" "$T"\n');
      w.config({ version: 1, sopsFile: secrets, profiles: { 'perm-child2': { command: child, env: { T: 'tok' } } } });
      const ok = await runCli(['perm-child2'], { env: w.env() });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toBe('v2');
      chmodSync(shared, 0o777);
      const bad = await runCli(['perm-child2'], { env: w.env() });
      expect(bad.code).toBe(125);
      expect(bad.stderr).toContain(`${secrets}: refused, the directory ${shared} is writable by others`);
    } finally {
      w.cleanup();
    }
  });
});

describe('secret files written by the CLI', () => {
  it('secret set and rotate refuse a file in a world-writable directory and leave it byte-identical', async () => {
    const w = makeWorld();
    try {
      const shared = join(w.root, 'shared-w');
      mkdirSync(shared);
      const secrets = (await makeSopsFile({ dir: shared, name: 's.yaml', plain: 'tok: v3\n', recipients: [w.recipient] })).path;
      const ok = await runCli(['secret', 'set', '--file', secrets, 'other'], { env: w.env(), input: 'x\n' });
      expect(ok.code, ok.stderr).toBe(0);
      chmodSync(shared, 0o777);
      const before = readFileSync(secrets);
      for (const args of [['secret', 'set', '--file', secrets, 'more'], ['rotate', '--file', secrets]]) {
        const bad = await runCli(args, { env: w.env(), input: 'y\n' });
        expect(bad.code, bad.stderr).toBe(9);
        expect(bad.stderr).toContain(`${secrets}: refused, the directory ${shared} is writable by others`);
        expect(readFileSync(secrets).equals(before)).toBe(true);
      }
    } finally {
      w.cleanup();
    }
  });
});
