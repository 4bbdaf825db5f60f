// Replaces a file's content all at once: temp file beside the resolved target, fsync, rename, fsync the directory.
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { chmod, link, lstat, open, readdir, readlink, realpath, rename, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { WithSecretsError, errnoCode } from '../errors.js';

/** The steps of {@link writeFileAtomic}, in order; tests pause or kill a writer at each one. */
export type AtomicWriteStep = 'temp-created' | 'data-written' | 'temp-synced' | 'renamed' | 'dir-synced';

/** Options of {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** Mode of a file that does not exist yet (default 0600); an existing file keeps its own. */
  readonly newFileMode?: number;
  /** The Nix store directory, refused as a target (default `/nix/store`). */
  readonly nixStoreDir?: string;
  /** Create the file only if it does not exist (an `exists` error otherwise); never replaces. */
  readonly exclusive?: boolean;
  /** Called after each step; only tests pass it, to stop a writer at a known point. */
  readonly onStep?: (step: AtomicWriteStep, tempPath: string) => void | Promise<void>;
}

/** How many symlinks are followed before giving up, as Linux's MAXSYMLINKS. */
const MAX_SYMLINKS = 40;

/**
 * The path a write to `path` must replace: symlinks are followed (so a symlinked file stays a
 * symlink and its target gets the new content), also when the final target does not exist yet.
 */
export async function resolveWriteTarget(path: string): Promise<string> {
  let current = resolve(path);
  for (let hops = 0; hops <= MAX_SYMLINKS; hops++) {
    try {
      return await realpath(current);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw wrapFsError(err, 'resolve', path);
    }
    // The target does not exist. If `current` is a dangling symlink, follow it by hand;
    // otherwise the file is new and only its directory must exist.
    let isLink = false;
    try {
      isLink = (await lstat(current)).isSymbolicLink();
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw wrapFsError(err, 'resolve', path);
    }
    if (!isLink) {
      let dir: string;
      try {
        dir = await realpath(dirname(current));
      } catch (err) {
        throw wrapFsError(err, 'resolve', dirname(current));
      }
      return join(dir, basename(current));
    }
    const link = await readlink(current);
    current = isAbsolute(link) ? link : resolve(dirname(current), link);
  }
  throw new WithSecretsError('io', `${path}: too many levels of symbolic links`);
}

/** Throws when `resolved` lies in the Nix store, which is read-only and world-readable. */
export function refuseNixStore(resolved: string, original: string, nixStoreDir = '/nix/store'): void {
  const store = nixStoreDir.endsWith('/') ? nixStoreDir : `${nixStoreDir}/`;
  if (resolved.startsWith(store) || resolve(original).startsWith(store)) {
    throw new WithSecretsError('permission', `${original} is in the Nix store (${resolved}), which cannot be written`, {
      hint: 'keep the secrets file outside the store (e.g. ~/.config/with-secrets/secrets.yaml) and refer to it by a path string, not a Nix path literal, in your Nix configuration',
    });
  }
}

/**
 * Writes `data` to `path` so that readers see either the old or the new content, never a mix,
 * and so that any failure (full disk, read-only mount, a kill at any point) leaves the old
 * content byte-identical and no temporary file behind. A symlinked path stays a symlink; an
 * existing file keeps its mode and owner; a new file is created with mode 0600.
 * Returns the resolved path that was written.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): Promise<string> {
  const target = await resolveWriteTarget(path);
  refuseNixStore(target, path, options.nixStoreDir);
  const dir = dirname(target);

  let existing: { mode: number; uid: number; gid: number } | undefined;
  try {
    const st = await stat(target);
    if (!st.isFile()) throw new WithSecretsError('io', `${path} is not a regular file`);
    existing = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err instanceof WithSecretsError ? err : wrapFsError(err, 'stat', path);
  }
  if (existing !== undefined && options.exclusive === true) {
    throw new WithSecretsError('exists', `${path} already exists`, { hint: 'move it away or choose another path; with-secrets never overwrites it' });
  }

  // A dot-name in the same directory, so the rename stays on one filesystem, and a recognisable
  // one, so a temp file stranded by a kill or power cut is found by removeStaleTempFiles.
  const tempPath = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  let renamed = false;
  try {
    try {
      handle = await open(tempPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
    } catch (err) {
      throw wrapFsError(err, 'create a temporary file in', dir);
    }
    await options.onStep?.('temp-created', tempPath);
    try {
      await handle.writeFile(data);
    } catch (err) {
      throw wrapFsError(err, 'write', path);
    }
    await options.onStep?.('data-written', tempPath);
    try {
      // Owner first: chown clears set-id bits, and the mode must be the last word.
      if (existing !== undefined) {
        const mine = await handle.stat();
        if (mine.uid !== existing.uid || mine.gid !== existing.gid) await handle.chown(existing.uid, existing.gid);
      }
      await handle.chmod(existing?.mode ?? options.newFileMode ?? 0o600);
    } catch (err) {
      throw wrapFsError(err, 'keep the owner and mode of', path);
    }
    try {
      await handle.sync();
    } catch (err) {
      throw wrapFsError(err, 'sync', path);
    }
    await options.onStep?.('temp-synced', tempPath);
    try {
      await handle.close();
    } catch (err) {
      handle = undefined;
      throw wrapFsError(err, 'write', path);
    }
    handle = undefined;
    if (options.exclusive === true) {
      // link() fails with EEXIST instead of replacing: the file appears whole or not at all.
      try {
        await link(tempPath, target);
      } catch (err) {
        if (errnoCode(err) === 'EEXIST') {
          throw new WithSecretsError('exists', `${path} already exists`, {
            cause: err,
            hint: 'move it away or choose another path; with-secrets never overwrites it',
          });
        }
        throw wrapFsError(err, 'create', path);
      }
      renamed = true;
      await unlink(tempPath).catch(() => undefined);
    } else {
      try {
        await rename(tempPath, target);
      } catch (err) {
        throw wrapFsError(err, 'replace', path);
      }
      renamed = true;
    }
    await options.onStep?.('renamed', tempPath);
  } catch (err) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    if (!renamed) await unlink(tempPath).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dir, path);
  await options.onStep?.('dir-synced', tempPath);
  return target;
}

/** Makes a rename in `dir` durable; the new content is already in place when this fails. */
async function syncDirectory(dir: string, path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
    await handle.sync();
  } catch (err) {
    // Some filesystems refuse fsync on a directory (EINVAL); the rename is then as durable as they allow.
    if (errnoCode(err) !== 'EINVAL') {
      throw new WithSecretsError('io', `${path} was written, but its directory could not be synced to disk (${errnoCode(err) ?? 'error'})`, {
        cause: err,
        hint: 'check the disk; the new content is in place but may not survive a power cut',
      });
    }
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Removes temporary files that a writer of `target` (a resolved path) left behind when it was
 * killed between creating and renaming them. Call it only while holding the file's lock, when no
 * other writer can be mid-way.
 */
export async function removeStaleTempFiles(target: string): Promise<number> {
  const dir = dirname(target);
  const prefix = `.${basename(target)}.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw wrapFsError(err, 'list', dir);
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    if (!/^[0-9a-f]{12}\.tmp$/.test(name.slice(prefix.length))) continue;
    try {
      await unlink(join(dir, name));
      removed++;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw wrapFsError(err, 'remove the stale temporary file', join(dir, name));
    }
  }
  return removed;
}

/** Sets `path`'s mode (used for directories created 0700). */
export async function setMode(path: string, mode: number): Promise<void> {
  try {
    await chmod(path, mode);
  } catch (err) {
    throw wrapFsError(err, 'change the mode of', path);
  }
}

/** Turns a Node file-system error into a {@link WithSecretsError} that names the file and the fix. */
export function wrapFsError(err: unknown, action: string, path: string): WithSecretsError {
  if (err instanceof WithSecretsError) return err;
  const code = errnoCode(err);
  const reason = code === undefined ? 'unknown error' : (REASONS[code] ?? code);
  const hint = code === undefined ? undefined : HINTS[code];
  const kind = code === 'EACCES' || code === 'EPERM' ? 'permission' : 'io';
  return new WithSecretsError(kind, `cannot ${action} ${path}: ${reason}`, hint === undefined ? { cause: err } : { cause: err, hint });
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EISDIR: 'is a directory',
  ENOTDIR: 'a path component is not a directory',
  EEXIST: 'already exists',
  EXDEV: 'crosses file systems',
  ELOOP: 'too many levels of symbolic links',
  EIO: 'input/output error',
};

const HINTS: Record<string, string> = {
  ENOSPC: 'free some space on that file system; the file was left unchanged',
  EDQUOT: 'free some space within your quota; the file was left unchanged',
  EROFS: 'the file system is mounted read-only; the file was left unchanged',
  EACCES: 'the file and its directory must be writable by you',
  EPERM: 'the file and its directory must be writable by you',
};
