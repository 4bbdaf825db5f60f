// Turns on V8's on-disk compile cache (Node ≥ 22.1) in a private directory, so later launches skip compiling the bundle.
import { lstatSync, mkdirSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { join } from 'node:path';

/** `module.enableCompileCache` where this Node has it (22.1+); older Node has no such export. */
type EnableCompileCache = (dir: string) => { status: number };

/** The compile cache directory: `$XDG_CACHE_HOME/with-secrets/v8` (default `~/.cache/…`). */
export function compileCacheDir(env: Readonly<Record<string, string | undefined>>, homeDir: string): string {
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg.startsWith('/') ? xdg : join(homeDir, '.cache'), 'with-secrets', 'v8');
}

/**
 * Enables the compile cache in a 0700 directory of this user, unless the user chose otherwise
 * (`NODE_COMPILE_CACHE` set, or `NODE_DISABLE_COMPILE_CACHE`). The cache holds compiled
 * with-secrets code, never data; a directory others could write is not used, since its entries
 * become code. Any failure just leaves the cache off. Returns whether it was enabled.
 */
export function enableCompileCache(env: Readonly<Record<string, string | undefined>>, homeDir: string, uid: number): boolean {
  const enable = (nodeModule as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  if (typeof enable !== 'function' || env['NODE_COMPILE_CACHE'] !== undefined || env['NODE_DISABLE_COMPILE_CACHE'] !== undefined) return false;
  const dir = compileCacheDir(env, homeDir);
  try {
    let st;
    try {
      st = lstatSync(dir);
    } catch {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      st = lstatSync(dir);
    }
    if (!st.isDirectory() || (uid >= 0 && st.uid !== uid) || (st.mode & 0o077) !== 0) return false;
    const { status } = enable(dir);
    // 1 = enabled, 2 = already enabled (constants.compileCacheStatus).
    return status === 1 || status === 2;
  } catch {
    return false;
  }
}
