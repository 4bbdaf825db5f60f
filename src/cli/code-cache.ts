// Runs the bundled CLI (a CommonJS file) through vm.Script with a V8 code cache, so a launch compiles almost nothing.
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { cacheDir, CODE_CACHE_SUBDIR, makeCacheDir } from '../fs/cache-layout.js';
import { writePrivateFileSync } from '../fs/private-file.js';

/** The start of the wrapper Node's CommonJS loader puts around a file (Module.wrap). */
export const COMMONJS_WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname) { ';

/** `source` (a CommonJS file, maybe with a `#!` line) inside that wrapper: a function expression to call. */
export function wrapCommonJs(source: string): string {
  const body = source.startsWith('#!') ? source.replace(/^#!.*/, '') : source;
  return `${COMMONJS_WRAPPER_HEAD}${body}\n});`;
}

/**
 * The code cache directory, `$XDG_CACHE_HOME/with-secrets/v8` (default `~/.cache/…`), made 0700;
 * undefined when it cannot be made (a home directory that does not exist is never made: see
 * makeCacheDir) or is not private to `uid` (its files become code, so a directory others could
 * write is never used).
 */
export function privateCacheDir(env: Readonly<Record<string, string | undefined>>, homeDir: string, uid: number): string | undefined {
  const where = cacheDir(env, homeDir, CODE_CACHE_SUBDIR);
  const { dir } = where;
  try {
    let st;
    try {
      st = lstatSync(dir);
    } catch {
      // Only the first run makes it: a recursive mkdir walks the whole path each time.
      makeCacheDir(where);
      st = lstatSync(dir);
    }
    if (!st.isDirectory() || (uid >= 0 && st.uid !== uid) || (st.mode & 0o077) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/** Reads a cache entry if it is a regular file of `uid`, not writable by others. */
function readEntry(path: string, uid: number): Buffer | undefined {
  try {
    const st = lstatSync(path);
    if (!st.isFile() || (uid >= 0 && st.uid !== uid) || (st.mode & 0o022) !== 0) return undefined;
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Bytes of the SHA-256 in front of a cache entry's code. */
const DIGEST_SIZE = 32;

/**
 * The code of a cache entry whose SHA-256 (stored in front of it) checks, else undefined. V8 checks
 * only a cached entry's header: a flipped byte inside made every launch crash in V8 until the entry
 * was deleted by hand (a crashing run never rewrites it).
 */
function readCode(path: string, uid: number): Buffer | undefined {
  const entry = readEntry(path, uid);
  if (entry === undefined || entry.length <= DIGEST_SIZE) return undefined;
  const code = entry.subarray(DIGEST_SIZE);
  return createHash('sha256').update(code).digest().equals(entry.subarray(0, DIGEST_SIZE)) ? code : undefined;
}

/** Writes `code` as a cache entry, its SHA-256 in front (see {@link readCode}). */
function writeCode(path: string, code: Buffer): void {
  writeEntry(path, Buffer.concat([createHash('sha256').update(code).digest(), code]));
}

/**
 * Removes the entries (and deferral markers) of other builds for this Node (`prefix`) and kind of run
 * (`suffix`), so upgrades do not pile them up; the other bundle's entries (another kind of run) stay.
 */
function removeStale(dir: string, prefix: string, suffix: string, keep: string): void {
  try {
    for (const name of readdirSync(dir)) {
      const ours = name.endsWith(suffix) || name.endsWith(`${suffix}${DEFERRED}`);
      if (name.startsWith(prefix) && ours && name !== keep && name !== `${keep}${DEFERRED}`) unlinkSync(join(dir, name));
    }
  } catch {
    /* an optimisation only */
  }
}

/** Writes a cache entry (0600, atomically); failures are ignored (the cache is only an optimisation). */
function writeEntry(path: string, data: Buffer): void {
  try {
    writePrivateFileSync(path, data);
  } catch {
    /* an optimisation only */
  }
}

/** The marker beside an entry that counts the runs that did not write it (one byte each). */
const DEFERRED = '.deferred';

/**
 * How many unrepresentative runs in a row may leave the entry unwritten. A first launch usually
 * fills the parse cache and the next one is the common, warm path; after an install or upgrade the
 * first launches of several profiles (several files) may all be cold. Past this, a run writes anyway,
 * so a setup whose every run is cold still gets a cache.
 */
const MAX_DEFERRALS = 4;

function mtimeOf(path: string): number | undefined {
  try {
    return lstatSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** What {@link runWithCodeCache} needs besides the file. */
export interface CodeCacheOptions {
  /** The private cache directory ({@link privateCacheDir}); no cache when undefined. */
  readonly dir: string | undefined;
  readonly uid: number;
  /** The bundle's content hash, computed by the build; '' when run unbundled. */
  readonly buildId?: string;
  /** The kind of run (see bin.ts): each kind keeps its own entry, holding what its runs compile. */
  readonly variant?: string;
  /** A `require` of a module in the file's directory (it resolves the same paths); made with node:module otherwise. */
  readonly requireFromDir?: NodeJS.Require;
  /**
   * A directory that a run changes only when it takes the cold path (the parse cache: a run that
   * fills it parses YAML and checks the whole MAC, which later launches skip). Such a run, like one
   * that exits non-zero, is not the one to take the code cache from (see {@link MAX_DEFERRALS}).
   */
  readonly coldPathWrites?: string;
}

/**
 * Runs the CommonJS file `file` as Node's loader would (same wrapper, `require` relative to it),
 * but compiled with the code cache kept in `options.dir`. The cache is written when it was missing
 * or rejected: at exit, or just before `process.execve` replaces the process, so it holds every
 * function the run compiled, not only the top level. It is written by a representative run: one that
 * took the cold path or failed would cache code later launches never run and leave out what they do
 * (a launch from a warm-path cache is ~0.5 ms faster; perf, issue 7). `buildId` names the bundle's
 * content: V8 checks only the source's length before using cached code, so an entry must never be
 * found for other content.
 */
export function runWithCodeCache(file: string, options: CodeCacheOptions): void {
  const { dir, uid, buildId = '', variant = 'any' } = options;
  const bytes = readFileSync(file);
  // The build writes the bundles as pure ASCII: then Latin-1 is the same text, copied instead of decoded
  // as UTF-8 (~0.3 ms of a launch; perf, issue 7). Anything else (a bundle edited by hand) is decoded.
  const source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  let cachePath: string | undefined;
  let cached: Buffer | undefined;
  let stale = (): void => {};
  if (dir !== undefined) {
    // One entry per bundle content and Node; size and mtime also catch a bundle changed by hand.
    const st = statSync(file);
    const prefix = `${process.version}-${process.arch}-`;
    // `sha256-framed`: entries carry their digest (readCode); one written before that is never taken for one.
    const id = createHash('sha256').update(`sha256-framed\0${buildId}\0${file}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 32);
    const name = `${prefix}${id}-${variant}.bin`;
    cachePath = join(dir, name);
    cached = readCode(cachePath, uid);
    stale = () => removeStale(dir, prefix, `-${variant}.bin`, name);
  }
  // The build writes the bundles already inside the wrapper (perf, issue 7): wrapping here would copy a 250 KB string.
  const script = new Script(source.startsWith(COMMONJS_WRAPPER_HEAD) ? source : wrapCommonJs(source), {
    filename: file,
    ...(cached === undefined ? {} : { cachedData: cached }),
  });
  if (cachePath !== undefined && (cached === undefined || script.cachedDataRejected === true)) {
    const path = cachePath;
    const marker = `${path}${DEFERRED}`;
    const watched = options.coldPathWrites;
    const before = watched === undefined ? undefined : mtimeOf(watched);
    let saved = false;
    const save = (exitCode: number): void => {
      if (saved) return;
      saved = true;
      const cold = exitCode !== 0 || (watched !== undefined && mtimeOf(watched) !== before);
      if (cold) {
        const deferrals = readEntry(marker, uid)?.length ?? 0;
        if (deferrals < MAX_DEFERRALS) {
          writeEntry(marker, Buffer.alloc(deferrals + 1));
          return;
        }
      }
      writeCode(path, script.createCachedData());
      try {
        unlinkSync(marker);
      } catch {
        /* there was none */
      }
      stale();
    };
    process.once('exit', (code) => save(code));
    const proc = process as unknown as { execve?: (...args: unknown[]) => never };
    const execve = proc.execve;
    if (typeof execve === 'function') {
      proc.execve = function (this: unknown, ...args: unknown[]): never {
        save(0);
        return execve.apply(this, args);
      };
    }
  }
  const mod = { exports: {} as unknown };
  const fn = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  // The bin passes its own require (it sits in the bundle's directory): making one would load node:module (~0.5 ms).
  const req = options.requireFromDir ?? process.getBuiltinModule('node:module').createRequire(file);
  fn.call(mod.exports, mod.exports, req, mod, file, dirname(file));
}
