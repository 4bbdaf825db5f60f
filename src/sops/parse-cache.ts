// A cache of parsed, still-encrypted sops documents (never a decrypted value), so a launch reads JSON instead of parsing YAML.
import { createHash } from 'node:crypto';
import { cacheDir, makeCacheDir, PARSE_CACHE_SUBDIR, type CacheDir } from '../fs/cache-layout.js';
// Synchronous calls: the launch path never loads node:fs/promises (which brings readline and more; perf, issue 7).
import { chmodSync, closeSync, constants as fsConstants, fstatSync, lstatSync, openSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { errnoCode } from '../errors.js';
import { writePrivateFileSync } from '../fs/private-file.js';
import type { Comment, Entry, MapNode, Node } from './tree.js';

/** Bump when the entry layout or the tree types change: older entries are then ignored and rewritten. */
const CACHE_VERSION = 2;

/** The cache directory: `$XDG_CACHE_HOME/with-secrets/parsed` (default `~/.cache/…`), as {@link createParseCache} takes it. */
export function parseCacheDir(env: Readonly<Record<string, string | undefined>>, homeDir: string): CacheDir {
  return cacheDir(env, homeDir, PARSE_CACHE_SUBDIR);
}

/** Options of {@link createParseCache}. */
export interface ParseCacheOptions {
  /** The cache directory (see {@link parseCacheDir}); created 0700 with its missing parents. */
  readonly dir: string;
  /** A folder that must already exist for `dir` to be made: the home directory, which is never made (see makeCacheDir). */
  readonly within?: string | undefined;
  /** The uid that must own the directory and the entries; default: the current user's. */
  readonly uid?: number;
  /** Told about a cache problem (an entry ignored or not written); never fatal. Messages hold no file content. */
  readonly onProblem?: (what: string) => void;
  /** The formats worth caching (default: YAML only; the others parse about as fast as the cache reads). */
  readonly formats?: readonly string[];
}

/** A store's parse of a file: its documents without `sops`, and the `sops` map (still encrypted). */
export interface ParsedDocument {
  readonly branches: MapNode[];
  readonly metadata: MapNode | undefined;
}

/** Parsed documents by file, keyed by the path, format, size, mtime and content hash of what was read. */
export interface ParseCache {
  /**
   * The parse of `content` (just read from `path`, as bytes or UTF-8 text) in `format`: from the
   * cache when an entry matches exactly, else from `parse` (whose result is then stored). A broken,
   * stale or unsafe cache is ignored; only `parse` can make this throw.
   */
  load(path: string, content: Uint8Array | string, format: string, parse: () => ParsedDocument | Promise<ParsedDocument>): Promise<ParsedDocument>;
  /**
   * What the entry behind the last `load` of `path` holds for the verified-MAC memo (src/sops/mac-memo.ts):
   * the content it binds to and the tag stored with it, if any. Undefined when that load used no entry.
   */
  memoOf(path: string): StoredMemo | undefined;
  /** Stores `tag` with the entry behind the last `load` of `path` (rewritten atomically); a failure is only reported. */
  saveMemo(path: string, tag: string): Promise<void>;
  /**
   * Removes the entry the last `load` of `path` read, when it came from the cache, and says whether it did:
   * a parse that then fails to decrypt may be a damaged entry rather than a damaged file.
   */
  forget(path: string): boolean;
}

/** The verified-MAC memo of one entry: what a tag binds (file path and bytes, the stored parse) and the tag, when one was stored. */
export interface StoredMemo {
  /** The absolute path of the sops file. */
  readonly path: string;
  /** SHA-256 (hex) of the file's bytes as just read. */
  readonly contentSha256: string;
  /** SHA-256 (hex) of the entry's JSON line: the parse the launch goes on to use. */
  readonly entrySha256: string;
  readonly tag?: string;
}

/** An entry as read or written by this process: its file, key, JSON line and memo tag. */
interface EntryState {
  readonly entryPath: string;
  readonly key: CacheKey;
  readonly line: string;
  readonly tag?: string;
  /** True when the parse came from this entry (not just written). */
  readonly hit?: true;
}

interface CacheKey {
  readonly path: string;
  readonly format: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly sha256: string;
}

/** Creates a parse cache in `options.dir`. Nothing touches the disk until the first `load`. */
export function createParseCache(options: ParseCacheOptions): ParseCache {
  const uid = options.uid ?? (typeof process.getuid === 'function' ? process.getuid() : -1);
  const problem = options.onProblem ?? (() => {});
  let dirReady: Promise<boolean> | undefined;
  const formats = options.formats ?? ['yaml'];
  const states = new Map<string, EntryState>();

  return {
    async load(path, content, format, parse) {
      states.delete(path);
      if (!formats.includes(format)) return parse();
      const key = await keyOf(path, content, format);
      const entryPath = join(options.dir, `${createHash('sha256').update(key?.path ?? path).digest('hex').slice(0, 32)}.json`);
      if (key !== undefined) {
        const cached = await readEntry(entryPath, key, uid, problem);
        if (cached !== undefined) {
          states.set(path, { entryPath, key, line: cached.line, hit: true, ...(cached.tag === undefined ? {} : { tag: cached.tag }) });
          return cached.doc;
        }
      }
      const doc = await parse();
      if (key !== undefined) {
        dirReady ??= prepareDir({ dir: options.dir, within: options.within }, uid, problem);
        if (await dirReady) {
          let line: string | undefined;
          try {
            line = serializeDocument(key, doc);
          } catch {
            problem(`parse cache entry ${entryPath} not written (the tree is not a parsed, encrypted document)`);
          }
          if (line !== undefined && (await writeEntry(entryPath, line, undefined, problem))) states.set(path, { entryPath, key, line });
        }
      }
      return doc;
    },
    memoOf(path) {
      const s = states.get(path);
      if (s === undefined) return undefined;
      const memo = { path: s.key.path, contentSha256: s.key.sha256, entrySha256: createHash('sha256').update(s.line).digest('hex') };
      return s.tag === undefined ? memo : { ...memo, tag: s.tag };
    },
    forget(path) {
      const s = states.get(path);
      states.delete(path);
      if (s?.hit !== true) return false;
      try {
        unlinkSync(s.entryPath);
      } catch {
        /* gone already */
      }
      return true;
    },
    async saveMemo(path, tag) {
      const s = states.get(path);
      if (s === undefined || !MEMO_TAG.test(tag)) return;
      if (await writeEntry(s.entryPath, s.line, tag, problem)) states.set(path, { ...s, tag });
    },
  };
}

/** A memo tag as stored: an HMAC-SHA256 in lowercase hex. */
const MEMO_TAG = /^[0-9a-f]{64}$/;

/** The entry's JSON line (JSON.stringify never writes a raw newline, so the line ends the JSON). */
function serializeDocument(key: CacheKey, doc: ParsedDocument): string {
  const metadata = doc.metadata === undefined ? null : serializeNode(doc.metadata);
  return JSON.stringify({ v: CACHE_VERSION, key, branches: doc.branches.map(serializeNode), metadata });
}

/** The key of `content` as read from `path`, or undefined when the file changed under us (then nothing is cached). */
async function keyOf(path: string, content: Uint8Array | string, format: string): Promise<CacheKey | undefined> {
  try {
    const st = statSync(path);
    // Text that is not valid UTF-8 re-encodes to another length: such a file is simply not cached.
    const size = typeof content === 'string' ? Buffer.byteLength(content, 'utf8') : content.length;
    if (!st.isFile() || st.size !== size) return undefined;
    const sha256 = createHash('sha256').update(content).digest('hex');
    return { path: resolve(path), format, size, mtimeMs: st.mtimeMs, sha256 };
  } catch {
    return undefined;
  }
}

/** Makes the directory 0700 and checks it is ours and not a symlink; false means: do not write. */
async function prepareDir(where: CacheDir, uid: number, problem: (what: string) => void): Promise<boolean> {
  const { dir } = where;
  try {
    makeCacheDir(where);
    const st = lstatSync(dir);
    if (!st.isDirectory() || (uid >= 0 && st.uid !== uid)) {
      problem(`parse cache ${dir} is not a directory of this user; not used`);
      return false;
    }
    if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
    return true;
  } catch (err) {
    problem(`parse cache ${dir} cannot be created (${(err as { code?: string }).code ?? 'error'}); not used`);
    return false;
  }
}

/**
 * Reads a matching entry, or undefined (absent, stale, damaged, or not private to this user). An
 * entry is the JSON line of the parse, then optionally a line with the verified-MAC memo tag.
 */
async function readEntry(
  entryPath: string,
  key: CacheKey,
  uid: number,
  problem: (what: string) => void,
): Promise<{ doc: ParsedDocument; line: string; tag?: string } | undefined> {
  let text: string;
  try {
    // O_NONBLOCK: a FIFO planted as the entry must not hang the launch (it is refused as no regular file below).
    const fd = openSync(entryPath, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || (uid >= 0 && st.uid !== uid) || (st.mode & 0o077) !== 0) {
        problem(`parse cache entry ${entryPath} is not private to this user; ignored`);
        return undefined;
      }
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const newline = text.indexOf('\n');
  const line = newline < 0 ? text : text.slice(0, newline);
  // A tag that is not exactly one well-formed line is ignored: the launch then checks the full MAC.
  const rest = newline < 0 ? '' : text.slice(newline + 1);
  const tag = MEMO_TAG.test(rest.trimEnd()) ? rest.trimEnd() : undefined;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry['v'] !== CACHE_VERSION) return undefined;
    const k = entry['key'] as Record<string, unknown> | undefined;
    if (k?.['path'] !== key.path || k['format'] !== key.format || k['size'] !== key.size || k['mtimeMs'] !== key.mtimeMs || k['sha256'] !== key.sha256) {
      return undefined;
    }
    const branches = entry['branches'];
    if (!Array.isArray(branches)) throw new Error('branches');
    const meta = entry['metadata'] === null ? undefined : reviveNode(entry['metadata']);
    if (meta !== undefined && meta.type !== 'map') throw new Error('metadata');
    const doc = { branches: branches.map(reviveMap), metadata: meta };
    return tag === undefined ? { doc, line } : { doc, line, tag };
  } catch {
    problem(`parse cache entry ${entryPath} is damaged; ignored`);
    return undefined;
  }
}

/**
 * Writes an entry (its JSON line, then the memo tag when given) atomically: private temp file,
 * then rename. Returns false after a failure, which is only reported.
 */
async function writeEntry(entryPath: string, line: string, tag: string | undefined, problem: (what: string) => void): Promise<boolean> {
  try {
    writePrivateFileSync(entryPath, tag === undefined ? line : `${line}\n${tag}\n`);
    return true;
  } catch (err) {
    problem(`parse cache entry ${entryPath} not written (${errnoCode(err) ?? 'error'})`);
    return false;
  }
}

/** The JSON form of a node; floats travel as text so NaN, ±Infinity and -0 survive. */
function serializeNode(node: Node | Comment | Entry): unknown {
  switch (node.type) {
    case 'map':
    case 'list':
      return { type: node.type, items: (node.items as ReadonlyArray<Node | Comment | Entry>).map(serializeNode) };
    case 'entry':
      return { type: 'entry', key: node.key, value: serializeNode(node.value) };
    case 'float':
      return { type: 'float', value: Object.is(node.value, -0) ? '-0' : String(node.value) };
    case 'bytes':
      // Bytes only come from decrypting; a parsed, encrypted document never holds them.
      throw new Error('a decrypted value cannot be cached');
    default:
      return node;
  }
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function reviveMap(x: unknown): MapNode {
  const node = reviveNode(x);
  if (node.type !== 'map') throw new Error('branch');
  return node;
}

/** Rebuilds and checks a node from its JSON form; throws on anything that is not a well-formed tree. */
function reviveNode(x: unknown): Node {
  const item = reviveItem(x);
  if (item.type === 'entry' || item.type === 'comment') throw new Error('node');
  return item;
}

function reviveItem(x: unknown): Node | Comment | Entry {
  if (!isRecord(x)) throw new Error('node');
  const v = x['value'];
  switch (x['type']) {
    case 'map':
    case 'list': {
      const items = x['items'];
      if (!Array.isArray(items)) throw new Error('items');
      const revived = items.map(reviveItem);
      if (x['type'] === 'map') {
        if (!revived.every((i): i is Entry | Comment => i.type === 'entry' || i.type === 'comment')) throw new Error('map item');
        return { type: 'map', items: revived };
      }
      if (revived.some((i) => i.type === 'entry')) throw new Error('list item');
      return { type: 'list', items: revived as Array<Node | Comment> };
    }
    case 'entry':
      if (typeof x['key'] !== 'string') throw new Error('key');
      return { type: 'entry', key: x['key'], value: reviveNode(v) };
    case 'comment':
      if (typeof v !== 'string') throw new Error('comment');
      return x['inline'] === true ? { type: 'comment', value: v, inline: true } : { type: 'comment', value: v };
    case 'str':
    case 'int':
    case 'time':
      if (typeof v !== 'string') throw new Error('scalar');
      return { type: x['type'], value: v };
    case 'float': {
      if (typeof v !== 'string') throw new Error('float');
      const n = v === '-0' ? -0 : Number(v);
      if (Number.isNaN(n) && v !== 'NaN') throw new Error('float');
      return { type: 'float', value: n };
    }
    case 'bool':
      if (typeof v !== 'boolean') throw new Error('bool');
      return { type: 'bool', value: v };
    case 'null':
      return { type: 'null' };
    default:
      throw new Error('type');
  }
}
