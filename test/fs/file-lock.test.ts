// The writer lock: mutual exclusion across processes, timeout, and recovery of locks left by killed or vanished writers.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireFileLock, lockPathFor } from '../../src/fs/file-lock.js';
import { isWithSecretsError } from '../../src/errors.js';

let dir: string;
let worker: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ws-lock-'));
  // A program that takes the lock, then either increments a counter file (read, pause, write) or
  // announces it holds the lock and waits to be killed.
  worker = join(dir, 'lock-worker.mjs');
  await build({
    stdin: {
      contents: `
        import { readFileSync, writeFileSync } from 'node:fs';
        import { acquireFileLock } from ${JSON.stringify(resolve('src/fs/file-lock.ts'))};
        const [target, mode] = process.argv.slice(2);
        const lock = await acquireFileLock(target, { timeoutMs: 60000 });
        if (mode === 'hold') { process.stdout.write('held\\n'); setInterval(() => {}, 1000); await new Promise(() => {}); }
        const n = Number(readFileSync(target, 'utf8'));
        await new Promise((r) => setTimeout(r, 5));
        writeFileSync(target, String(n + 1));
        await lock.release();
      `,
      resolveDir: process.cwd(),
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: worker,
    logLevel: 'silent',
  });
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]): Promise<number | null> {
  const child = spawn(process.execPath, [worker, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((res) => child.on('exit', (code) => res(code)));
}

/** A pid that certainly belongs to no process: a child that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((res) => child.on('exit', res));
  return child.pid!;
}

describe('acquireFileLock', () => {
  it('creates and removes the lock file', async () => {
    const target = join(dir, 'a.yaml');
    const lock = await acquireFileLock(target);
    expect(existsSync(lockPathFor(target))).toBe(true);
    expect(JSON.parse(readFileSync(lockPathFor(target), 'utf8')).pid).toBe(process.pid);
    await lock.release();
    await lock.release();
    expect(existsSync(lockPathFor(target))).toBe(false);
  });

  it('a second writer waits, then fails with lock-timeout naming the holder', async () => {
    const target = join(dir, 'b.yaml');
    const lock = await acquireFileLock(target);
    const err = await acquireFileLock(target, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'lock-timeout')).toBe(true);
    expect((err as Error).message).toContain(`pid ${process.pid}`);
    expect((err as { hint?: string }).hint).toContain(lockPathFor(target));
    await lock.release();
    const again = await acquireFileLock(target, { timeoutMs: 300 });
    await again.release();
  });

  it('serialises writers in one process', async () => {
    const target = join(dir, 'c.txt');
    writeFileSync(target, '0');
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const lock = await acquireFileLock(target);
        const n = Number(readFileSync(target, 'utf8'));
        await new Promise((r) => setTimeout(r, 2));
        writeFileSync(target, String(n + 1));
        await lock.release();
      }),
    );
    expect(readFileSync(target, 'utf8')).toBe('20');
  });

  it('serialises 20 writer processes: no update lost', async () => {
    const target = join(dir, 'd.txt');
    writeFileSync(target, '0');
    const codes = await Promise.all(Array.from({ length: 20 }, () => run([target, 'inc'])));
    expect(codes).toEqual(Array(20).fill(0));
    expect(readFileSync(target, 'utf8')).toBe('20');
    expect(existsSync(lockPathFor(target))).toBe(false);
  });

  it('recovers the lock of a writer killed with SIGKILL', async () => {
    const target = join(dir, 'e.yaml');
    const child = spawn(process.execPath, [worker, target, 'hold'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((res) => child.stdout.once('data', () => res()));
    expect(existsSync(lockPathFor(target))).toBe(true);
    // While the holder lives, the lock is respected.
    const err = await acquireFileLock(target, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(isWithSecretsError(err, 'lock-timeout')).toBe(true);
    child.kill('SIGKILL');
    await new Promise((res) => child.on('exit', res));
    const lock = await acquireFileLock(target, { timeoutMs: 5000 });
    expect(JSON.parse(readFileSync(lockPathFor(target), 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('recovers a lock whose pid was reused by a process started at another time', async () => {
    const target = join(dir, 'f.yaml');
    writeFileSync(lockPathFor(target), JSON.stringify({ pid: process.pid, start: '1', host: hostname(), token: 'x', since: 'then' }));
    const lock = await acquireFileLock(target, { timeoutMs: 2000 });
    await lock.release();
  });

  it('recovers a lock of a vanished pid, and respects a live one', async () => {
    const target = join(dir, 'g.yaml');
    writeFileSync(lockPathFor(target), JSON.stringify({ pid: await deadPid(), start: null, host: hostname(), token: 'x', since: 'then' }));
    const lock = await acquireFileLock(target, { timeoutMs: 2000 });
    await lock.release();
    // pid 1 is alive; without a start time to compare, the lock stands.
    writeFileSync(lockPathFor(target), JSON.stringify({ pid: 1, start: null, host: hostname(), token: 'x', since: 'then' }));
    const err = await acquireFileLock(target, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'lock-timeout')).toBe(true);
    rmSync(lockPathFor(target));
  });

  it('an empty lock file (holder killed before writing it) is abandoned only once old', async () => {
    const target = join(dir, 'h.yaml');
    writeFileSync(lockPathFor(target), '');
    const err = await acquireFileLock(target, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'lock-timeout')).toBe(true);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockPathFor(target), old, old);
    const lock = await acquireFileLock(target, { timeoutMs: 2000 });
    await lock.release();
  });

  it('a lock from another host stands until it is older than staleMs', async () => {
    const target = join(dir, 'i.yaml');
    writeFileSync(lockPathFor(target), JSON.stringify({ pid: 1, start: null, host: 'elsewhere.invalid', token: 'x', since: 'then' }));
    const err = await acquireFileLock(target, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'lock-timeout')).toBe(true);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockPathFor(target), old, old);
    const lock = await acquireFileLock(target, { timeoutMs: 2000, staleMs: 30_000 });
    await lock.release();
  });

  it('does not remove a lock that another writer took after breaking a stale one', async () => {
    const target = join(dir, 'j.yaml');
    writeFileSync(lockPathFor(target), JSON.stringify({ pid: await deadPid(), start: null, host: hostname(), token: 'x', since: 'then' }));
    // Many waiters race to break the same stale lock; exactly one may hold it at a time.
    let holders = 0;
    let maxHolders = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const lock = await acquireFileLock(target, { timeoutMs: 10_000 });
        holders++;
        maxHolders = Math.max(maxHolders, holders);
        await new Promise((r) => setTimeout(r, 5));
        holders--;
        await lock.release();
      }),
    );
    expect(maxHolders).toBe(1);
  });
});
