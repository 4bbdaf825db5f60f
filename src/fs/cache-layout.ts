// Where with-secrets' caches live ($XDG_CACHE_HOME/with-secrets) and how their folders are made, in one place.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The parse cache (src/sops/parse-cache.ts): parsed, still-encrypted documents. */
export const PARSE_CACHE_SUBDIR = 'parsed';

/** The V8 code cache of the bundles (src/cli/code-cache.ts). */
export const CODE_CACHE_SUBDIR = 'v8';

/** A cache folder, and the folder that must already exist before it may be made (see {@link makeCacheDir}). */
export interface CacheDir {
  readonly dir: string;
  /** The home directory when the folder lies under `~/.cache`; undefined under `$XDG_CACHE_HOME`. */
  readonly within: string | undefined;
}

/**
 * The cache folder `sub` of with-secrets: `$XDG_CACHE_HOME/with-secrets/SUB`, else `~/.cache/with-secrets/SUB`
 * (the XDG spec says a relative `$XDG_CACHE_HOME` is invalid and must be ignored).
 */
export function cacheDir(env: Readonly<Record<string, string | undefined>>, homeDir: string, sub: string): CacheDir {
  const xdg = env['XDG_CACHE_HOME'];
  if (xdg !== undefined && xdg.startsWith('/')) return { dir: join(xdg, 'with-secrets', sub), within: undefined };
  return { dir: join(homeDir, '.cache', 'with-secrets', sub), within: homeDir };
}

/**
 * Makes a cache folder 0700 with its missing parents, but never the home directory itself: a HOME
 * that does not exist (a Nix builder's `/homeless-shelter`, a removed account) gets no cache instead
 * of being created, which would also make every later unsandboxed Nix build on that machine refuse to
 * start. Throws as mkdir does (ENOENT, ENOTDIR) when it may not or cannot make the folder.
 */
export function makeCacheDir(where: CacheDir): void {
  if (where.within !== undefined && !statSync(where.within).isDirectory()) {
    throw Object.assign(new Error(`${where.within} is not a directory`), { code: 'ENOTDIR' });
  }
  mkdirSync(where.dir, { recursive: true, mode: 0o700 });
}
