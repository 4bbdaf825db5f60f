// Changes a sops file safely: under the writer lock, decrypt, change, encrypt, emit, and replace the file atomically.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { WithSecretsError, errnoCode } from '../errors.js';
import type { IdentityProvider } from '../age/provider.js';
import { refuseNixStore, removeStaleTempFiles, resolveWriteTarget, writeFileAtomic } from '../fs/atomic-write.js';
import { acquireFileLock, type FileLock } from '../fs/file-lock.js';
import { checkPathSafety } from '../fs/path-safety.js';
import { DATA_KEY_SIZE, wrapDataKey } from './data-key.js';
import { encryptBranches } from './encrypt.js';
import { compileRules, type EncryptionRules } from './encryption-rules.js';
import { ivReuser, stashIvs, type IvStash } from './keep-ciphertext.js';
import { encryptMac } from './mac.js';
import { metadataToTree, type Metadata } from './metadata.js';
import { openSopsFile, type OpenedSopsFile } from './open.js';
import { emitStore, formatFromPath, loadStore } from './stores/index.js';
import type { MapNode, StoreFormat } from './tree.js';

/** What every write needs besides the file. */
export interface WriteOptions {
  /** The store; default from the file extension. */
  readonly format?: StoreFormat;
  /** Where the identities that open the file come from. */
  readonly identities: IdentityProvider;
  /** How long to wait for another writer (default 30 s). */
  readonly lockTimeoutMs?: number;
  /** Output indentation (sops' `stores.<format>.indent` in `.sops.yaml`), when set. */
  readonly indent?: number;
  /** The clock, for `lastmodified` (tests). */
  readonly now?: () => Date;
  /** The Nix store directory, refused as a target (tests). */
  readonly nixStoreDir?: string;
  /** Stops a wait for the lock (a signal arrived). */
  readonly signal?: AbortSignal;
}

/** A decrypted file as a change function sees it. */
export interface OpenedForWrite {
  /** The path as given. */
  readonly path: string;
  /** The path written: symlinks resolved. */
  readonly target: string;
  readonly opened: OpenedSopsFile;
}

/** What a change function returns: the new plaintext branches and, when recipients or the key change, new metadata and key. */
export type Change =
  | { readonly kind: 'unchanged' }
  | {
      readonly kind: 'change';
      readonly branches: readonly MapNode[];
      /** New metadata (key groups already wrapped); default the file's. */
      readonly metadata?: Metadata;
      /** A new data key (rotation); every value is then encrypted anew. */
      readonly dataKey?: Uint8Array;
    };

/** `lastmodified` as sops writes it: UTC, RFC 3339 without fractional seconds. */
export function formatLastModified(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Encrypts plaintext branches and emits the whole file text: fresh MAC, new `lastmodified`,
 * metadata in the sops 3.13 layout with `version` stamped. `stash` keeps the ciphertext of values
 * that did not change (only with the same data key).
 */
export async function sealDocument(
  format: StoreFormat,
  branches: readonly MapNode[],
  metadata: Metadata,
  dataKey: Uint8Array,
  origin: string,
  options: { readonly stash?: IvStash; readonly indent?: number; readonly now?: () => Date } = {},
): Promise<string> {
  const rules = compileRules(metadata.rules, origin);
  const encrypted = encryptBranches(branches, dataKey, rules, metadata.macOnlyEncrypted, options.stash ? ivReuser(options.stash) : undefined);
  const lastmodified = formatLastModified((options.now ?? (() => new Date()))());
  const mac = encryptMac(encrypted.mac, dataKey, lastmodified, origin);
  const tree = metadataToTree({ ...metadata, lastmodified, mac });
  return emitStore(format, encrypted.branches, tree, options.indent === undefined ? {} : { indent: options.indent });
}

/**
 * Changes an existing sops file. Takes the writer lock on the resolved file (waiting for other
 * writers), removes temp files a killed writer left, reads and decrypts the file (MAC verified),
 * calls `change`, then encrypts and replaces the file atomically. The lock is released on every
 * path. Values `change` left alone keep their exact ciphertext. Returns what `change` returned.
 */
export async function updateSopsFile(
  path: string,
  options: WriteOptions,
  change: (file: OpenedForWrite) => Change | Promise<Change>,
): Promise<Change> {
  const held = await lockForWrite(path, options);
  try {
    return await updateLocked(path, held.target, options, change);
  } finally {
    await held.lock.release();
  }
}

/** This process's uid, or undefined where there are no POSIX ids (the directory check is then skipped). */
const currentUid = (): number | undefined => (typeof process.getuid === 'function' ? process.getuid() : undefined);

/**
 * Resolves `path` and takes its writer lock; cleans up what a killed writer left. A path through a
 * directory another user could change is refused first: they could swap the file we re-encrypt.
 */
export async function lockForWrite(path: string, options: Pick<WriteOptions, 'lockTimeoutMs' | 'nixStoreDir' | 'signal'>): Promise<{ target: string; lock: FileLock }> {
  await checkPathSafety(path, currentUid());
  const target = await resolveWriteTarget(path);
  refuseNixStore(target, path, options.nixStoreDir);
  const lock = await acquireFileLock(target, {
    ...(options.lockTimeoutMs === undefined ? {} : { timeoutMs: options.lockTimeoutMs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  try {
    await removeStaleTempFiles(target);
  } catch (err) {
    await lock.release();
    throw err;
  }
  return { target, lock };
}

/** The body of {@link updateSopsFile}, for callers that already hold the lock (`secret edit`). */
export async function updateLocked(
  path: string,
  target: string,
  options: WriteOptions,
  change: (file: OpenedForWrite) => Change | Promise<Change>,
): Promise<Change> {
  const { opened, stash } = await openForWrite(path, target, options);
  const result = await change({ path, target, opened });
  if (result.kind === 'unchanged') return result;
  const dataKey = result.dataKey ?? opened.dataKey;
  const text = await sealDocument(opened.format, result.branches, result.metadata ?? opened.metadata, dataKey, path, {
    ...(result.dataKey === undefined ? { stash } : {}),
    ...(options.indent === undefined ? {} : { indent: options.indent }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  await writeFileAtomic(target, text, options.nixStoreDir === undefined ? {} : { nixStoreDir: options.nixStoreDir });
  return result;
}

/** Reads and decrypts the file once, and remembers the IVs of its values for an unchanged re-encryption. */
export async function openForWrite(path: string, target: string, options: WriteOptions): Promise<{ opened: OpenedSopsFile; stash: IvStash; text: string }> {
  const format = options.format ?? formatFromPath(path);
  let text: string;
  try {
    text = await readFile(target, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw new WithSecretsError('io', `${path}: file not found`, { cause: err, hint: 'create it with `with-secrets init`, or give another file with --file' });
    }
    throw new WithSecretsError(errnoCode(err) === 'EACCES' ? 'permission' : 'io', `${path}: cannot read the file (${errnoCode(err) ?? 'error'})`, { cause: err });
  }
  const opened = await openSopsFile(path, { format, identities: options.identities, readFile: async () => text });
  const { branches: encrypted } = await loadStore(format, text, path);
  return { opened, stash: stashIvs(opened.branches, encrypted), text };
}

/** What a new file is made of. */
export interface NewFileSpec {
  readonly format: StoreFormat;
  /** Plaintext branches (one, except for multi-document YAML). */
  readonly branches: readonly MapNode[];
  /** Age recipients per key group. */
  readonly keyGroups: readonly (readonly string[])[];
  readonly shamirThreshold?: number;
  readonly rules?: EncryptionRules;
  readonly macOnlyEncrypted?: boolean;
}

/**
 * Creates a new sops file with a fresh data key: encrypted, then written whole with mode 0600,
 * never over an existing file (`exists`). Nothing is left behind on failure.
 */
export async function createSopsFile(path: string, spec: NewFileSpec, options: Pick<WriteOptions, 'indent' | 'now' | 'nixStoreDir'> = {}): Promise<string> {
  await checkPathSafety(path, currentUid());
  const text = await encryptNewDocument(path, spec, options);
  return writeFileAtomic(path, text, { exclusive: true, ...(options.nixStoreDir === undefined ? {} : { nixStoreDir: options.nixStoreDir }) });
}

/** The text of a new sops file (fresh data key, wrapped for `spec.keyGroups`), without writing it. */
export async function encryptNewDocument(origin: string, spec: NewFileSpec, options: Pick<WriteOptions, 'indent' | 'now'> = {}): Promise<string> {
  const dataKey = new Uint8Array(randomBytes(DATA_KEY_SIZE));
  const threshold = spec.shamirThreshold ?? 0;
  const wrapped = await wrapDataKey(dataKey, spec.keyGroups, threshold);
  const metadata: Metadata = {
    keyGroups: wrapped.map((age) => ({ age, others: [] })),
    shamirThreshold: spec.keyGroups.length > 1 ? (threshold > 0 ? threshold : spec.keyGroups.length) : 0,
    lastmodified: '',
    mac: '',
    version: undefined,
    rules: spec.rules ?? {},
    macOnlyEncrypted: spec.macOnlyEncrypted ?? false,
  };
  return sealDocument(spec.format, spec.branches, metadata, dataKey, origin, {
    ...(options.indent === undefined ? {} : { indent: options.indent }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
}
