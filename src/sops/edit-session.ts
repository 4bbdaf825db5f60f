// `secret edit` without the editor: decrypt to a private runtime file under the lock, then re-encrypt what the user saved.
import { isUtf8 } from 'node:buffer';
import { constants as fsConstants, lstatSync, readdirSync, rmSync } from 'node:fs';
import { lstat, mkdtemp, open, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { WithSecretsError, errnoCode } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { FileLock } from '../fs/file-lock.js';
import { lockForWrite, openForWrite, sealDocument, type WriteOptions } from './save.js';
import { emitStore, loadStore } from './stores/index.js';
import type { IvStash } from './keep-ciphertext.js';
import type { OpenedSopsFile } from './open.js';
import type { MapNode, Node } from './tree.js';

/** Options of {@link beginEdit}. */
export interface EditOptions extends WriteOptions {
  /** `$XDG_RUNTIME_DIR`: the only place the plaintext may be written (a per-user tmpfs). */
  readonly runtimeDir: string | undefined;
  /** The uid that must own the runtime directory (the current user). */
  readonly uid: number | undefined;
}

/** An edit in progress: the plaintext file exists until {@link EditSession.cleanupSync} runs. */
export interface EditSession {
  /** The decrypted copy the editor opens. */
  readonly plaintextPath: string;
  /**
   * Reads the edited copy back and, if it changed, encrypts and writes the file (same data key,
   * unchanged values keep their ciphertext). Throws `malformed` when the copy does not parse, leaving
   * the copy in place so the user can fix it; call `finish` again afterwards.
   */
  finish(): Promise<'saved' | 'unchanged'>;
  /** Removes the plaintext and its directory and releases the lock. Synchronous, for signal handlers; idempotent. */
  cleanupSync(): void;
}

const DIR_PREFIX = 'with-secrets-edit-';

/** Throws unless `dir` is an existing directory owned by `uid` that no one else can enter. */
async function checkRuntimeDir(dir: string | undefined, uid: number | undefined): Promise<string> {
  const hint =
    'secret edit writes the decrypted copy only to $XDG_RUNTIME_DIR (a per-user, memory-backed directory that systemd-logind creates); ' +
    'log in through a session that sets it, or point it at a tmpfs directory of yours with mode 0700';
  if (dir === undefined || dir === '') {
    throw new WithSecretsError('usage', 'XDG_RUNTIME_DIR is not set, so there is no private memory-backed place for the decrypted copy', { hint });
  }
  let st;
  try {
    st = await lstat(dir);
  } catch (err) {
    throw new WithSecretsError('io', `XDG_RUNTIME_DIR (${dir}) cannot be used (${errnoCode(err) ?? 'error'})`, { cause: err, hint });
  }
  if (!st.isDirectory()) throw new WithSecretsError('usage', `XDG_RUNTIME_DIR (${dir}) is not a directory`, { hint });
  if (uid !== undefined && st.uid !== uid) throw new WithSecretsError('permission', `XDG_RUNTIME_DIR (${dir}) belongs to another user`, { hint });
  if ((st.mode & 0o077) !== 0) {
    throw new WithSecretsError('permission', `XDG_RUNTIME_DIR (${dir}) is open to other users (mode ${(st.mode & 0o777).toString(8)})`, { hint });
  }
  return dir;
}

/** Removes edit directories that killed `secret edit` runs left behind (their pid is gone). */
function sweepAbandoned(runtimeDir: string): void {
  let names: string[];
  try {
    names = readdirSync(runtimeDir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch (err) {
      alive = errnoCode(err) === 'EPERM';
    }
    if (!alive) {
      try {
        if (lstatSync(join(runtimeDir, name)).isDirectory()) rmSync(join(runtimeDir, name), { recursive: true, force: true });
      } catch {
        // Someone else removed it.
      }
    }
  }
}

function aborted(): WithSecretsError {
  return new WithSecretsError('usage', 'interrupted; nothing was changed');
}

/**
 * Starts editing `file`: checks `$XDG_RUNTIME_DIR`, takes the writer lock (held until cleanup, so
 * no other writer's change is lost under the editor), decrypts (MAC verified), and writes the
 * plaintext to a 0600 file in a fresh 0700 directory there. The caller runs the editor, calls
 * `finish`, and must call `cleanupSync` on every path, including signals.
 */
export async function beginEdit(file: string, options: EditOptions): Promise<EditSession> {
  const runtimeDir = await checkRuntimeDir(options.runtimeDir, options.uid);
  sweepAbandoned(runtimeDir);
  if (options.signal?.aborted) throw aborted();
  const held = await lockForWrite(file, options);
  let dir: string | undefined;
  let cleaned = false;
  const cleanupSync = (lock: FileLock): void => {
    if (cleaned) return;
    cleaned = true;
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    // The lock file holds no secret; a failed release is recovered as a stale lock later.
    void lock.release().catch(() => undefined);
  };
  try {
    if (options.signal?.aborted) throw aborted();
    const { opened, stash, text: original } = await openForWrite(file, held.target, options);
    // A binary file's copy is its bytes as they are: through a string, bytes that are not UTF-8 would be changed.
    const plaintext = opened.format === 'binary' ? binaryData(opened.branches, file) : await emitStore(opened.format, opened.branches, undefined, options.indent === undefined ? {} : { indent: options.indent });
    if (options.signal?.aborted) throw aborted();
    dir = await mkdtemp(join(runtimeDir, `${DIR_PREFIX}${process.pid}-`));
    const plaintextPath = join(dir, basename(file));
    const handle = await open(plaintextPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
    try {
      await handle.writeFile(plaintext);
    } finally {
      await handle.close();
    }
    return {
      plaintextPath,
      finish: () => finishEdit(file, held.target, opened, stash, plaintext, original, plaintextPath, options),
      cleanupSync: () => cleanupSync(held.lock),
    };
  } catch (err) {
    cleanupSync(held.lock);
    throw err;
  }
}

/** The bytes of a binary sops file's `data`, the copy an editor gets. */
function binaryData(branches: readonly MapNode[], file: string): Uint8Array {
  for (const item of branches[0]?.items ?? []) {
    if (item.type !== 'entry' || item.key !== 'data') continue;
    if (item.value.type === 'bytes') return item.value.value;
    if (item.value.type === 'str') return Buffer.from(item.value.value, 'utf8');
  }
  throw new WithSecretsError('malformed', `${file}: a binary sops file holds its content under "data", and this one does not`);
}

/** The tree of an edited binary copy: `data` as text when it is UTF-8, else as the bytes themselves. */
function binaryBranch(raw: Buffer): MapNode {
  const value: Node = isUtf8(raw) ? { type: 'str', value: raw.toString('utf8') } : { type: 'bytes', value: new Uint8Array(raw) };
  return { type: 'map', items: [{ type: 'entry', key: 'data', value }] };
}

async function finishEdit(
  file: string,
  target: string,
  opened: OpenedSopsFile,
  stash: IvStash,
  written: string | Uint8Array,
  original: string,
  plaintextPath: string,
  options: EditOptions,
): Promise<'saved' | 'unchanged'> {
  let raw: Buffer;
  try {
    raw = await readFile(plaintextPath);
  } catch (err) {
    throw new WithSecretsError('io', `the edited copy of ${file} cannot be read back (${errnoCode(err) ?? 'error'}); nothing was changed`, { cause: err });
  }
  if (typeof written === 'string' ? raw.toString('utf8') === written : raw.equals(written)) return 'unchanged';
  // Name the file the user knows, not the temporary path, in parse errors.
  const label = `${file} (edited copy)`;
  const { branches, metadata } =
    opened.format === 'binary'
      ? { branches: [binaryBranch(raw)], metadata: undefined }
      : await loadStore(opened.format, raw.toString('utf8'), label, { binary: 'plain' });
  if (metadata !== undefined) {
    const reserved =
      opened.format === 'dotenv' ? 'keys starting with sops_ are' : opened.format === 'ini' ? 'the section [sops] is' : 'the top-level key "sops" is';
    throw new WithSecretsError('malformed', `${label}: ${reserved} reserved for the file's metadata`, { hint: 'rename or remove it' });
  }
  const current = await readFile(target, 'utf8').catch(() => undefined);
  if (current !== original) {
    // Cannot happen while we hold the lock, unless something ignores it (sops itself, an editor on the original).
    throw new WithSecretsError('io', `${file} was changed by something else during the edit; your edits were not saved`, {
      hint: 'run secret edit again; with-secrets writers wait for each other, but sops and other tools do not take the lock',
    });
  }
  const text = await sealDocument(opened.format, branches, opened.metadata, opened.dataKey, file, {
    stash,
    ...(options.indent === undefined ? {} : { indent: options.indent }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  await writeFileAtomic(target, text, options.nixStoreDir === undefined ? {} : { nixStoreDir: options.nixStoreDir });
  return 'saved';
}
