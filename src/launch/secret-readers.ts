// The real readers behind secret references: sops documents, age files, plaintext files and the keyring, loaded lazily.
// Synchronous read: the launch path never loads node:fs/promises (which brings readline and more; perf, issue 7).
import { readFileSync } from 'node:fs';
import type { IdentityProvider } from '../age/provider.js';
import { errnoCode, WithSecretsError } from '../errors.js';
import { checkPathSafety } from '../fs/path-safety.js';
import { lookupPath, parseKeyPath } from '../sops/key-path.js';
import { createParseCache, parseCacheDir, type ParseCache } from '../sops/parse-cache.js';
import type { MapNode, Node } from '../sops/tree.js';
import type { SecretReaders } from './collect-secrets.js';

/** What the readers need: one identity provider for the whole launch (each source used once). */
export interface SecretReaderOptions {
  readonly identities: IdentityProvider;
  /** Reads a token from the OS keyring (`{keyring: NAME}`). */
  readonly readKeyring: (name: string) => Promise<string>;
  /** Where the parse cache of sops documents lives (`$XDG_CACHE_HOME`, else `homeDir/.cache`); without it, no cache. */
  readonly parseCache?: { readonly env: Readonly<Record<string, string | undefined>>; readonly homeDir: string };
  /** Secret files are refused when a directory on their path can be changed by another user than this one and root; default: the current user. */
  readonly uid?: number;
}

/** Reads a file once, turning errno failures into errors that name the file. */
async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return readFileSync(path);
  } catch (cause) {
    const code = errnoCode(cause);
    if (code === 'ENOENT') throw new WithSecretsError('io', `${path}: file not found`, { cause, hint: 'check the path in the config' });
    if (code === 'EACCES' || code === 'EPERM') throw new WithSecretsError('permission', `${path}: permission denied`, { cause });
    if (code === 'EISDIR') throw new WithSecretsError('io', `${path}: is a directory`, { cause });
    throw new WithSecretsError('io', `${path}: cannot read the file${code === undefined ? '' : ` (${code})`}`, { cause });
  }
}

/** Builds the readers a launch uses; the sops, age and keyring modules load only when a reference needs them. */
export function createSecretReaders(options: SecretReaderOptions): SecretReaders {
  // The parse cache lets a launch read JSON instead of loading the YAML parser (perf, issue 7).
  const where = options.parseCache;
  const cache: ParseCache | undefined = where === undefined ? undefined : createParseCache(parseCacheDir(where.env, where.homeDir));
  const uid = options.uid ?? (typeof process.getuid === 'function' ? process.getuid() : undefined);
  const readChecked = async (path: string): Promise<Uint8Array> => {
    await checkPathSafety(path, uid);
    return readBytes(path);
  };
  return {
    async openSops(file, format, wanted) {
      await checkPathSafety(file, uid);
      const { openSopsFile } = await import('../sops/open.js');
      const opened = await openSopsFile(file, {
        identities: options.identities,
        ...(format === undefined ? {} : { format }),
        ...(cache === undefined ? {} : { cache }),
        ...(wanted === undefined ? {} : { wanted }),
      });
      opened.dataKey.fill(0);
      return opened.branches;
    },
    lookupKey(branches, key, file) {
      return lookupKeySync(branches, key, file);
    },
    async decryptAge(file) {
      const bytes = await readChecked(file);
      const { decryptAgeFile } = await import('../age/decrypt-age-file.js');
      return decryptAgeFile(bytes, file, options.identities);
    },
    readFile: readChecked,
    readKeyring: options.readKeyring,
  };
}

/** Looks `key` up in the first document, as `sops --extract` does. */
function lookupKeySync(branches: readonly MapNode[], key: string, file: string): Node {
  const first = branches[0];
  if (first === undefined) throw new WithSecretsError('key-not-found', `${file}: ${key} not found (the file has no document)`);
  return lookupPath(first, parseKeyPath(key), file);
}
