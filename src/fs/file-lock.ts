// An exclusive lock on a file for one writer at a time, as a lock file beside it, with stale-lock recovery.
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { WithSecretsError, errnoCode } from '../errors.js';
import { wrapFsError } from './atomic-write.js';

/** Options of {@link acquireFileLock}. */
export interface FileLockOptions {
  /** How long to wait for another writer before failing with `lock-timeout` (default 30 s). */
  readonly timeoutMs?: number;
  /**
   * Age after which a lock whose holder cannot be checked (another host, unreadable content)
   * counts as abandoned (default 10 min; a write takes well under a second).
   */
  readonly staleMs?: number;
  /** Stops waiting (a `usage` error saying it was interrupted) when aborted. */
  readonly signal?: AbortSignal;
}

/** A held lock; release it in a `finally`. */
export interface FileLock {
  /** The lock file's path. */
  readonly path: string;
  /** Removes the lock file if it is still this holder's. Safe to call twice. */
  release(): Promise<void>;
}

/** What a lock file records about its holder. */
interface LockOwner {
  readonly pid: number;
  /** Process start time in clock ticks since boot (`/proc/PID/stat` field 22), so a reused pid is told apart. */
  readonly start: string | null;
  readonly host: string;
  readonly token: string;
  readonly since: string;
}

/** A lock file whose content never got written (a writer killed between create and write) is abandoned after this. */
const PARTIAL_STALE_MS = 5_000;

/** The lock file used for `target` (an already resolved path). */
export function lockPathFor(target: string): string {
  return `${target}.lock`;
}

/**
 * Takes the exclusive lock on `target` (a resolved path), waiting while another writer holds it.
 * A lock left by a killed process (its pid is gone, or now belongs to a process started at
 * another time) is removed and taken over. Fails with `lock-timeout` when the wait runs out.
 */
export async function acquireFileLock(target: string, options: FileLockOptions = {}): Promise<FileLock> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const staleMs = options.staleMs ?? 600_000;
  const lockPath = lockPathFor(target);
  const me: LockOwner = {
    pid: process.pid,
    start: await readStartTime(process.pid),
    host: hostname(),
    token: randomBytes(12).toString('hex'),
    since: new Date().toISOString(),
  };
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  let lastHolder: LockOwner | undefined;
  for (;;) {
    if (await tryCreate(lockPath, me)) {
      let released = false;
      return {
        path: lockPath,
        release: async () => {
          if (released) return;
          released = true;
          await releaseIfMine(lockPath, me.token);
        },
      };
    }
    const seen = await inspectLock(lockPath);
    if (seen !== undefined) {
      lastHolder = seen.owner ?? lastHolder;
      if (await isAbandoned(seen, staleMs)) {
        await breakLock(lockPath, seen);
        continue;
      }
    }
    if (options.signal?.aborted === true) {
      throw new WithSecretsError('usage', `interrupted while waiting for the lock on ${target}; nothing was changed`);
    }
    if (Date.now() >= deadline) {
      const who = lastHolder === undefined ? 'another writer' : `another with-secrets (pid ${lastHolder.pid} on ${lastHolder.host}, since ${lastHolder.since})`;
      throw new WithSecretsError('lock-timeout', `${target} is locked by ${who}; gave up after ${Math.round(timeoutMs / 1000)} s`, {
        hint: `wait for it to finish and try again; if no with-secrets process is running, delete ${lockPath}`,
      });
    }
    // Jittered backoff so twenty waiters do not poll in lockstep.
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())) * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 200);
  }
}

/** Creates the lock file exclusively with `me` in it; false when it already exists. */
async function tryCreate(lockPath: string, me: LockOwner): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw wrapFsError(err, 'create the lock file', lockPath);
  }
  try {
    await handle.writeFile(`${JSON.stringify(me)}\n`);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(lockPath).catch(() => undefined);
    throw wrapFsError(err, 'write the lock file', lockPath);
  }
  await handle.close();
  return true;
}

/** A lock file as found: its inode (to tell a replaced file apart), age and parsed holder. */
interface SeenLock {
  readonly ino: number;
  readonly ageMs: number;
  readonly text: string;
  readonly owner: LockOwner | undefined;
}

/** Reads the lock file; undefined when it vanished meanwhile. */
async function inspectLock(lockPath: string): Promise<SeenLock | undefined> {
  try {
    const st = await stat(lockPath);
    const text = await readFile(lockPath, 'utf8');
    return { ino: st.ino, ageMs: Date.now() - st.mtimeMs, text, owner: parseOwner(text) };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw wrapFsError(err, 'read the lock file', lockPath);
  }
}

/** Parses lock-file content; undefined when it is not a complete record. */
function parseOwner(text: string): LockOwner | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null) return undefined;
    const o = v as Record<string, unknown>;
    if (typeof o.pid !== 'number' || typeof o.host !== 'string' || typeof o.token !== 'string') return undefined;
    return {
      pid: o.pid,
      start: typeof o.start === 'string' ? o.start : null,
      host: o.host,
      token: o.token,
      since: typeof o.since === 'string' ? o.since : '?',
    };
  } catch {
    return undefined;
  }
}

/** True when the lock's holder is certainly gone (or the lock is too old to be anyone's). */
async function isAbandoned(seen: SeenLock, staleMs: number): Promise<boolean> {
  const owner = seen.owner;
  if (owner === undefined) return seen.ageMs > PARTIAL_STALE_MS;
  if (owner.host !== hostname()) return seen.ageMs > staleMs;
  if (!isAlive(owner.pid)) return true;
  // The pid is alive: it is the holder unless it was reused by a process started at another time.
  if (owner.start !== null) {
    const start = await readStartTime(owner.pid);
    if (start !== null && start !== owner.start) return true;
  }
  return false;
}

/** Whether a process with this pid exists (EPERM means it does, owned by someone else). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/** The start time of `pid` from /proc, or null where /proc is not available. */
async function readStartTime(pid: number): Promise<string | null> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * Removes an abandoned lock. A second, short-lived "breaker" lock makes sure only one waiter
 * does so, and the lock is re-checked under it, so a fresh lock taken by another waiter in the
 * meantime is never removed by mistake.
 */
async function breakLock(lockPath: string, seen: SeenLock): Promise<void> {
  const breaker = `${lockPath}.break`;
  let handle;
  try {
    handle = await open(breaker, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw wrapFsError(err, 'create the lock file', breaker);
    // Someone else is breaking it; a breaker outlives its holder only if that holder was killed mid-way.
    try {
      const st = await stat(breaker);
      if (Date.now() - st.mtimeMs > PARTIAL_STALE_MS) await unlink(breaker);
    } catch {
      // Gone already.
    }
    return;
  }
  try {
    await handle.close();
    const now = await inspectLock(lockPath);
    if (now !== undefined && now.ino === seen.ino && now.text === seen.text) await unlink(lockPath).catch(() => undefined);
  } finally {
    await unlink(breaker).catch(() => undefined);
  }
}

/** Removes the lock file if it still holds `token` (it is not if another writer broke it as stale). */
async function releaseIfMine(lockPath: string, token: string): Promise<void> {
  try {
    const owner = parseOwner(await readFile(lockPath, 'utf8'));
    if (owner?.token === token) await unlink(lockPath);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw wrapFsError(err, 'remove the lock file', lockPath);
  }
}
