// Turns on V8's on-disk compile cache (Node ≥ 22.1) in a private directory, so later launches skip compiling the bundle.
import { privateCacheDir } from './code-cache.js';

/** `module.enableCompileCache` where this Node has it (22.1+); older Node has no such export. */
type EnableCompileCache = (dir: string) => { status: number };

/**
 * Enables the compile cache in a 0700 directory of this user, unless the user chose otherwise
 * (`NODE_COMPILE_CACHE` set, or `NODE_DISABLE_COMPILE_CACHE`). The cache holds compiled
 * with-secrets code, never data; a directory others could write is not used, since its entries
 * become code. Any failure just leaves the cache off. Returns whether it was enabled.
 */
export function enableCompileCache(env: Readonly<Record<string, string | undefined>>, homeDir: string, uid: number): boolean {
  // Looked up here, not imported: loading node:module costs a launch ~0.5 ms, and only other commands get here.
  const enable = (process.getBuiltinModule('node:module') as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  if (typeof enable !== 'function' || env['NODE_COMPILE_CACHE'] !== undefined || env['NODE_DISABLE_COMPILE_CACHE'] !== undefined) return false;
  // The same private 0700 directory as the bundle's own code cache; its entries become code.
  const dir = privateCacheDir(env, homeDir, uid);
  if (dir === undefined) return false;
  try {
    const { status } = enable(dir);
    // 1 = enabled, 2 = already enabled (constants.compileCacheStatus).
    return status === 1 || status === 2;
  } catch {
    return false;
  }
}
