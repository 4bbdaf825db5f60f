// Opens a sops file: read once, parse, unwrap the data key, decrypt every document, verify the MAC (or its memo), then return.
// Synchronous read: the launch path never loads node:fs/promises (which brings readline and more; perf, issue 7).
import { readFileSync } from 'node:fs';
import { errnoCode, WithSecretsError } from '../errors.js';
import type { IdentityProvider } from '../age/provider.js';
import { unwrapDataKey } from './data-key.js';
import { decryptBranches } from './decrypt.js';
import { compileRules, type WalkLeaf } from './encryption-rules.js';
import { lookupPath, parseKeyPath } from './key-path.js';
import { verifyMac } from './mac.js';
import { checkMacMemo, computeMacMemo } from './mac-memo.js';
import { parseMetadata, type Metadata } from './metadata.js';
import type { ParseCache } from './parse-cache.js';
import { formatFromPath, loadStore } from './stores/index.js';
import type { MapNode, Node, StoreFormat } from './tree.js';

/** The values a caller will read (the launcher): key paths of the first document, and whether all its top-level values (envFrom). */
export interface WantedValues {
  readonly keys: readonly string[];
  readonly topLevel: boolean;
}

/** Options of {@link openSopsFile}. */
export interface OpenOptions {
  /** The store; default from the file extension, as sops (`--input-type`). */
  readonly format?: StoreFormat;
  /** Skip the MAC check (recovery only, as sops' `--ignore-mac`). */
  readonly ignoreMac?: boolean;
  /** Where age identities come from; sources are loaded only as far as needed. */
  readonly identities: IdentityProvider;
  /** Reads the file as text; default `fs.readFile(path, 'utf8')`. */
  readonly readFile?: (path: string) => Promise<string>;
  /** A cache of parsed, still-encrypted documents (the launcher passes one, so a launch skips the YAML parser). */
  readonly cache?: ParseCache;
  /**
   * With `cache`: the values the caller will read. When the cache entry carries a verified-MAC memo
   * that checks under the data key (src/sops/mac-memo.ts), only these are decrypted and the full MAC
   * is not recomputed; the result is then `partial`.
   */
  readonly wanted?: WantedValues;
}

/** An opened sops file: every document decrypted, MAC verified unless `ignoreMac`. */
export interface OpenedSopsFile {
  readonly path: string;
  readonly format: StoreFormat;
  /** One branch per document (YAML may have several; the others always one). */
  readonly branches: MapNode[];
  readonly metadata: Metadata;
  /** The data key, for a writer that re-encrypts. */
  readonly dataKey: Uint8Array;
  /** False only when `ignoreMac` skipped the check. */
  readonly macVerified: boolean;
  /** True when only the `wanted` values were decrypted (the MAC held by its memo); every other leaf is still `ENC[…]`. */
  readonly partial: boolean;
}

async function readText(path: string, readFile: ((path: string) => Promise<string>) | undefined): Promise<string> {
  try {
    return readFile ? await readFile(path) : readFileSync(path, 'utf8');
  } catch (cause) {
    if (cause instanceof WithSecretsError) throw cause;
    const code = errnoCode(cause);
    if (code === 'ENOENT') throw new WithSecretsError('io', `${path}: file not found`, { cause, hint: 'check the path' });
    if (code === 'EACCES' || code === 'EPERM') throw new WithSecretsError('permission', `${path}: permission denied`, { cause });
    if (code === 'EISDIR') throw new WithSecretsError('io', `${path}: is a directory`, { cause });
    throw new WithSecretsError('io', `${path}: cannot read the file${code ? ` (${code})` : ''}`, { cause });
  }
}

/**
 * Reads and decrypts a sops file. The file is read once; all documents are decrypted; the MAC is
 * verified before anything is returned (`mac-mismatch` says which check failed), unless
 * `ignoreMac`. A file without `version` is accepted, as sops' library decrypt path accepts it.
 * Errors: `io`/`permission`, `malformed` (not a sops file, bad metadata or values), `no-identity`,
 * `decrypt-failed`, `mac-mismatch`.
 */
export async function openSopsFile(path: string, options: OpenOptions): Promise<OpenedSopsFile> {
  try {
    return await openOnce(path, options);
  } catch (err) {
    // A parse from the cache that does not decrypt may be a damaged cache entry, not a damaged file:
    // drop the entry and read the file itself, once (which stores a fresh entry). Otherwise every
    // launch would fail, blaming a file that is fine.
    if (options.cache === undefined || !(err instanceof WithSecretsError) || err.code === 'io' || err.code === 'permission') throw err;
    if (!options.cache.forget(path)) throw err;
    return openOnce(path, options);
  }
}

async function openOnce(path: string, options: OpenOptions): Promise<OpenedSopsFile> {
  const format = options.format ?? formatFromPath(path);
  const text = await readText(path, options.readFile);
  const parse = () => loadStore(format, text, path);
  const { branches, metadata: metaTree } = await (options.cache ? options.cache.load(path, text, format, parse) : parse());
  if (metaTree === undefined) {
    throw new WithSecretsError('malformed', `${path}: not a sops file (no sops metadata found)`, {
      hint: format === 'binary' ? 'if it is YAML, JSON, dotenv or INI, name its type with --input-type' : 'encrypt it with sops (or with-secrets secret set) first',
    });
  }
  const metadata = parseMetadata(metaTree, path);
  const rules = compileRules(metadata.rules, path);
  const dataKey = await unwrapDataKey({ file: path, metadata, identities: options.identities });
  const memo = options.ignoreMac ? undefined : options.cache?.memoOf(path);
  if (memo !== undefined && options.wanted !== undefined && checkMacMemo(memo.tag, dataKey, memo)) {
    // These exact bytes and this parse passed the full MAC check before (see mac-memo.ts).
    const only = selectLeaves(branches, options.wanted);
    const decrypted = decryptBranches(branches, dataKey, rules, metadata.macOnlyEncrypted, path, { only });
    return { path, format, branches: decrypted.branches, metadata, dataKey, macVerified: true, partial: true };
  }
  const decrypted = decryptBranches(branches, dataKey, rules, metadata.macOnlyEncrypted, path);
  if (!options.ignoreMac) verifyMac(metadata.mac, decrypted.mac ?? '', dataKey, metadata.lastmodified, path);
  if (memo !== undefined && options.cache !== undefined) {
    const tag = computeMacMemo(dataKey, memo);
    if (tag !== memo.tag) await options.cache.saveMemo(path, tag);
  }
  return { path, format, branches: decrypted.branches, metadata, dataKey, macVerified: !options.ignoreMac, partial: false };
}

/**
 * The leaves under the nodes `wanted` names, found in the still-encrypted first document exactly as
 * the caller will find them in the decrypted one (keys are not encrypted, so the shape is the same).
 * A key that is not there selects nothing; the caller's own lookup then reports it.
 */
function selectLeaves(branches: readonly MapNode[], wanted: WantedValues): Set<WalkLeaf> {
  const out = new Set<WalkLeaf>();
  const first = branches[0];
  if (first === undefined) return out;
  const add = (node: Node): void => {
    if (node.type === 'map' || node.type === 'list') {
      for (const item of node.items) {
        if (item.type === 'entry') add(item.value);
        else if (item.type !== 'comment') add(item);
      }
    } else if (node.type !== 'null') out.add(node);
  };
  if (wanted.topLevel) add(first);
  for (const key of wanted.keys) {
    try {
      add(lookupPath(first, parseKeyPath(key)));
    } catch {
      /* not found or not a key path: the caller's lookup says so */
    }
  }
  return out;
}
