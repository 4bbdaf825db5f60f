// Runs the bundled CLI (a CommonJS file) through vm.Script with a V8 code cache, so a launch compiles almost nothing.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
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
 * undefined when it cannot be made or is not private to `uid` (its files become code, so a
 * directory others could write is never used).
 */
export function privateCacheDir(env: Readonly<Record<string, string | undefined>>, homeDir: string, uid: number): string | undefined {
  const xdg = env['XDG_CACHE_HOME'];
  const dir = join(xdg !== undefined && xdg.startsWith('/') ? xdg : join(homeDir, '.cache'), 'with-secrets', 'v8');
  try {
    let st;
    try {
      st = lstatSync(dir);
    } catch {
      // Only the first run makes it: a recursive mkdir walks the whole path each time.
      mkdirSync(dir, { recursive: true, mode: 0o700 });
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

/**
 * Removes the entries of other builds for this Node (`prefix`) and kind of run (`suffix`), so upgrades
 * do not pile up entries; the other bundle's entries (another kind of run) stay.
 */
function removeStale(dir: string, prefix: string, suffix: string, keep: string): void {
  try {
    for (const name of readdirSync(dir)) {
      if (name.startsWith(prefix) && name.endsWith(suffix) && name !== keep) unlinkSync(join(dir, name));
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

/**
 * Runs the CommonJS file `file` as Node's loader would (same wrapper, `require` relative to it),
 * but compiled with the code cache kept in `cacheDir` (none when undefined). The cache is written
 * when it was missing or rejected: at exit, or just before `process.execve` replaces the process,
 * so it holds every function the run compiled, not only the top level. `buildId` names the bundle's
 * content (the build computes it); V8 checks only the source's length before using cached code, so
 * an entry must never be found for other content. `variant` names the kind of run (see bin.ts); each
 * bundle file has its own. `requireFromDir`, when given, is a `require` of a module in `file`'s
 * directory (it resolves the same paths).
 */
export function runWithCodeCache(file: string, cacheDir: string | undefined, uid: number, buildId = '', variant = 'any', requireFromDir?: NodeJS.Require): void {
  const source = readFileSync(file, 'utf8');
  let cachePath: string | undefined;
  let cached: Buffer | undefined;
  let stale = (): void => {};
  if (cacheDir !== undefined) {
    // One entry per bundle content and Node; size and mtime also catch a bundle changed by hand.
    const st = statSync(file);
    const prefix = `${process.version}-${process.arch}-`;
    const id = createHash('sha256').update(`${buildId}\0${file}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 32);
    // `variant` keeps one entry per kind of run (a launch, other commands): each holds what its runs compile.
    const name = `${prefix}${id}-${variant}.bin`;
    cachePath = join(cacheDir, name);
    cached = readEntry(cachePath, uid);
    stale = () => removeStale(cacheDir, prefix, `-${variant}.bin`, name);
  }
  // The build writes the bundles already inside the wrapper (perf, issue 7): wrapping here would copy a 250 KB string.
  const script = new Script(source.startsWith(COMMONJS_WRAPPER_HEAD) ? source : wrapCommonJs(source), {
    filename: file,
    ...(cached === undefined ? {} : { cachedData: cached }),
  });
  if (cachePath !== undefined && (cached === undefined || script.cachedDataRejected === true)) {
    const path = cachePath;
    let saved = false;
    const save = (): void => {
      if (saved) return;
      saved = true;
      writeEntry(path, script.createCachedData());
      stale();
    };
    process.once('exit', save);
    const proc = process as unknown as { execve?: (...args: unknown[]) => never };
    const execve = proc.execve;
    if (typeof execve === 'function') {
      proc.execve = function (this: unknown, ...args: unknown[]): never {
        save();
        return execve.apply(this, args);
      };
    }
  }
  const mod = { exports: {} as unknown };
  const fn = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  // The bin passes its own require (it sits in the bundle's directory): making one would load node:module (~0.5 ms).
  const req = requireFromDir ?? process.getBuiltinModule('node:module').createRequire(file);
  fn.call(mod.exports, mod.exports, req, mod, file, dirname(file));
}
