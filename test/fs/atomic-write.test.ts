// Atomic replacement: content, mode/owner kept, symlinks kept, Nix store refused, and faults (full disk, ro mount, kill) leave the original intact.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AtomicWriteStep, removeStaleTempFiles, resolveWriteTarget, writeFileAtomic } from '../../src/fs/atomic-write.js';
import { isWithSecretsError } from '../../src/errors.js';

const isRoot = process.getuid?.() === 0;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ws-atomic-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Names in `d` other than the expected ones; a leftover temp file shows up here. */
const entries = (d: string): string[] => readdirSync(d).sort();

describe('writeFileAtomic', () => {
  it('creates a new file with mode 0600', async () => {
    const p = join(dir, 'new.yaml');
    await writeFileAtomic(p, 'a: 1\n');
    expect(readFileSync(p, 'utf8')).toBe('a: 1\n');
    expect(statSync(p).mode & 0o777).toBe(0o600);
  });

  it('keeps the mode of an existing file', async () => {
    const p = join(dir, 'mode.yaml');
    writeFileSync(p, 'old\n', { mode: 0o640 });
    execFileSync('chmod', ['0640', p]);
    await writeFileAtomic(p, 'new\n');
    expect(readFileSync(p, 'utf8')).toBe('new\n');
    expect(statSync(p).mode & 0o7777).toBe(0o640);
  });

  it.skipIf(!isRoot)('keeps the owner of an existing file (as root)', async () => {
    const p = join(dir, 'owner.yaml');
    writeFileSync(p, 'old\n');
    chownSync(p, 4321, 8765);
    await writeFileAtomic(p, 'new\n');
    const st = statSync(p);
    expect([st.uid, st.gid]).toEqual([4321, 8765]);
  });

  it('writes through a symlink and leaves the symlink in place (relative link)', async () => {
    const sub = join(dir, 'real');
    mkdirSync(sub);
    const real = join(sub, 'secrets.yaml');
    writeFileSync(real, 'old\n');
    const link = join(dir, 'link.yaml');
    symlinkSync('real/secrets.yaml', link);
    const written = await writeFileAtomic(link, 'new\n');
    expect(written).toBe(real);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('real/secrets.yaml');
    expect(readFileSync(real, 'utf8')).toBe('new\n');
    // The temp file was made next to the target, not next to the link.
    expect(entries(sub)).toEqual(['secrets.yaml']);
  });

  it('follows a dangling symlink and creates its target', async () => {
    const link = join(dir, 'dangling.yaml');
    symlinkSync(join(dir, 'target-of-dangling.yaml'), link);
    expect(await resolveWriteTarget(link)).toBe(join(dir, 'target-of-dangling.yaml'));
    await writeFileAtomic(link, 'x\n');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'target-of-dangling.yaml'), 'utf8')).toBe('x\n');
  });

  it('refuses a path in the Nix store, also through a symlink, with a hint', async () => {
    const store = join(dir, 'nix-store');
    mkdirSync(store);
    writeFileSync(join(store, 'abc-secrets.yaml'), 'old\n');
    symlinkSync(join(store, 'abc-secrets.yaml'), join(dir, 'hm-link.yaml'));
    const err = await writeFileAtomic(join(dir, 'hm-link.yaml'), 'new\n', { nixStoreDir: store }).catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'permission')).toBe(true);
    expect((err as Error).message).toContain('Nix store');
    expect((err as { hint?: string }).hint).toMatch(/outside the store/);
    expect(readFileSync(join(store, 'abc-secrets.yaml'), 'utf8')).toBe('old\n');
    expect(entries(store)).toEqual(['abc-secrets.yaml']);
  });

  it('exclusive: creates whole, refuses to replace an existing file', async () => {
    const p = join(dir, 'excl.yaml');
    await writeFileAtomic(p, 'first\n', { exclusive: true });
    const err = await writeFileAtomic(p, 'second\n', { exclusive: true }).catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'exists')).toBe(true);
    expect(readFileSync(p, 'utf8')).toBe('first\n');
    expect(entries(dir).filter((n) => n.includes('excl.yaml'))).toEqual(['excl.yaml']);
  });

  it.each<AtomicWriteStep>(['temp-created', 'data-written', 'temp-synced'])('an error after %s leaves the original and no temp file', async (step) => {
    const d = mkdtempSync(join(dir, 'step-'));
    const p = join(d, 'f.yaml');
    writeFileSync(p, 'original\n');
    const err = await writeFileAtomic(p, 'replacement\n', {
      onStep: (s) => {
        if (s === step) throw new Error('injected');
      },
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('injected');
    expect(readFileSync(p, 'utf8')).toBe('original\n');
    expect(entries(d)).toEqual(['f.yaml']);
  });

  it('removeStaleTempFiles removes only this file\'s temp names', async () => {
    const d = mkdtempSync(join(dir, 'stale-'));
    writeFileSync(join(d, 'f.yaml'), 'x');
    writeFileSync(join(d, '.f.yaml.0123456789ab.tmp'), 'partial');
    writeFileSync(join(d, '.g.yaml.0123456789ab.tmp'), 'other file');
    writeFileSync(join(d, '.f.yaml.notatemp'), 'keep');
    expect(await removeStaleTempFiles(join(d, 'f.yaml'))).toBe(1);
    expect(entries(d)).toEqual(['.f.yaml.notatemp', '.g.yaml.0123456789ab.tmp', 'f.yaml']);
  });
});

/** Mounts a tmpfs of `size` on a new directory; undefined (and a warning) where mounting is not permitted. */
function mountTmpfs(size: string): string | undefined {
  const m = mkdtempSync(join(tmpdir(), 'ws-mnt-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', m], { stdio: 'pipe' });
    return m;
  } catch {
    rmSync(m, { recursive: true, force: true });
    return undefined;
  }
}

function unmount(m: string): void {
  execFileSync('umount', [m], { stdio: 'pipe' });
  rmSync(m, { recursive: true, force: true });
}

const probe = mountTmpfs('64k');
if (probe !== undefined) unmount(probe);
else console.warn('SKIPPED: full-disk and read-only-mount tests need permission to mount a tmpfs (run as root)');

describe.skipIf(probe === undefined)('faults on real mounts', () => {
  const mounts: string[] = [];
  afterEach(() => {
    for (const m of mounts.splice(0)) unmount(m);
  });

  it('a full file system leaves the original byte-identical and no temp file', async () => {
    const m = mountTmpfs('64k')!;
    mounts.push(m);
    const p = join(m, 'secrets.yaml');
    const original = Buffer.alloc(24 * 1024, 'a');
    writeFileSync(p, original);
    const err = await writeFileAtomic(p, Buffer.alloc(200 * 1024, 'b')).catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'io')).toBe(true);
    expect((err as Error).message).toContain('no space left');
    expect(readFileSync(p).equals(original)).toBe(true);
    expect(entries(m)).toEqual(['secrets.yaml']);
  });

  it('a read-only mount leaves the original byte-identical and no temp file', async () => {
    const m = mountTmpfs('64k')!;
    mounts.push(m);
    const p = join(m, 'secrets.yaml');
    writeFileSync(p, 'original\n');
    execFileSync('mount', ['-o', 'remount,ro', m]);
    const err = await writeFileAtomic(p, 'new\n').catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'io')).toBe(true);
    expect((err as Error).message).toContain('read-only');
    expect(readFileSync(p, 'utf8')).toBe('original\n');
    expect(entries(m)).toEqual(['secrets.yaml']);
  });
});

describe('SIGKILL in the middle of a write', () => {
  let writer: string;
  beforeAll(async () => {
    // A tiny program that writes through writeFileAtomic and stops at a chosen step, so the
    // test can kill it exactly there.
    writer = join(dir, 'kill-writer.mjs');
    await build({
      stdin: {
        contents: `
          import { writeFileAtomic } from ${JSON.stringify(resolve('src/fs/atomic-write.ts'))};
          const [path, stopAt] = process.argv.slice(2);
          await writeFileAtomic(path, Buffer.alloc(256 * 1024, 'n'), {
            onStep: async (step) => {
              if (step === stopAt) { process.stdout.write('at ' + step + '\\n'); setInterval(() => {}, 1000); await new Promise(() => {}); }
            },
          });
          process.stdout.write('done\\n');
        `,
        resolveDir: process.cwd(),
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: writer,
      logLevel: 'silent',
    });
  });

  it.each<AtomicWriteStep>(['temp-created', 'data-written', 'temp-synced'])('killed after %s: original intact; the stranded temp file is removed by the next writer', async (step) => {
    const d = mkdtempSync(join(dir, 'kill-'));
    const p = join(d, 'secrets.yaml');
    writeFileSync(p, 'original\n');
    const child = spawn(process.execPath, [writer, p, step], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((res) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) res(out.trim());
      });
      child.on('exit', () => res(out.trim()));
    });
    expect(line).toBe(`at ${step}`);
    const exited = new Promise((res) => child.on('exit', (_code, signal) => res(signal)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(readFileSync(p, 'utf8')).toBe('original\n');
    expect(entries(d).filter((n) => n.endsWith('.tmp'))).toHaveLength(1);
    expect(await removeStaleTempFiles(p)).toBe(1);
    expect(entries(d)).toEqual(['secrets.yaml']);
  });

  it('killed after the rename: the new content is complete', async () => {
    const d = mkdtempSync(join(dir, 'kill-'));
    const p = join(d, 'secrets.yaml');
    writeFileSync(p, 'original\n');
    const child = spawn(process.execPath, [writer, p, 'renamed'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((res) => child.stdout.once('data', () => res()));
    child.kill('SIGKILL');
    await new Promise((res) => child.on('exit', res));
    expect(readFileSync(p).equals(Buffer.alloc(256 * 1024, 'n'))).toBe(true);
    expect(entries(d)).toEqual(['secrets.yaml']);
  });
});
