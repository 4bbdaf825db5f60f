// Age identities kept in the OS keyring (service `with-secrets-identity`, account NAME), plus a non-secret index.
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { WithSecretsError, errnoCode } from '../errors.js';
import { SERVICE, keyringDelete, keyringGet, keyringSet, type KeyringOptions } from './client.js';
import { assertKeyringName } from './names.js';

// Interoperability (checked by test/keyring against libsecret-tools): an identity stored here reads back with
//   secret-tool lookup service with-secrets-identity account NAME
// and one stored with `secret-tool store --label=… service with-secrets-identity account NAME xdg:schema
// org.freedesktop.Secret.Generic` is read by with-secrets (keytar matches that schema name, so the
// `xdg:schema` attribute is required).

/** One identity the index knows: its name and public recipient(s), never key material. */
export interface IdentityIndexEntry {
  readonly name: string;
  readonly recipients: readonly string[];
  readonly created: string;
}

/** Options of the identity store: keyring options plus where the index lives. */
export interface IdentityStoreOptions extends KeyringOptions {
  readonly homeDir: string;
}

/**
 * The index file: `$XDG_DATA_HOME/with-secrets/identities.json` (default `~/.local/share/…`). It lists
 * names and recipients only, because enumerating the keyring is unsafe (findCredentials crashed on a
 * locked keyring) and would read every secret.
 */
export function identityIndexPath(env: Readonly<Record<string, string | undefined>>, homeDir: string): string {
  const data = env['XDG_DATA_HOME'];
  return join(data !== undefined && data !== '' ? data : join(homeDir, '.local', 'share'), 'with-secrets', 'identities.json');
}

/** Reads the index; an absent file is an empty index. */
export async function readIdentityIndex(env: Readonly<Record<string, string | undefined>>, homeDir: string): Promise<IdentityIndexEntry[]> {
  const path = identityIndexPath(env, homeDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = errnoCode(e);
    // No file, or no directory for it: no index yet.
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new WithSecretsError('io', `${path}: cannot read (${errnoCode(e) ?? 'error'})`, { cause: e });
  }
  try {
    const doc = JSON.parse(text) as { identities?: unknown };
    if (!Array.isArray(doc.identities)) throw new Error('no identities list');
    return doc.identities.flatMap((x: unknown): IdentityIndexEntry[] => {
      const e = x as Partial<IdentityIndexEntry>;
      if (typeof e.name !== 'string' || !Array.isArray(e.recipients)) return [];
      return [{ name: e.name, recipients: e.recipients.filter((r): r is string => typeof r === 'string'), created: typeof e.created === 'string' ? e.created : '' }];
    });
  } catch (e) {
    throw new WithSecretsError('malformed', `${path}: not a with-secrets identity index`, { cause: e, hint: 'fix or remove the file; it holds names and recipients only' });
  }
}

/** The error for an index that cannot be written: the path, the errno, what to check. */
function indexWriteError(path: string, e: unknown): WithSecretsError {
  return new WithSecretsError('io', `${path}: cannot write the identity index (${errnoCode(e) ?? 'error'})`, {
    cause: e,
    hint: `check that ${join(path, '..')} can be created and written, and that its disk has space`,
  });
}

/**
 * Runs `change` holding the index's writer lock, so concurrent stores and removals neither lose index
 * entries nor both pass the "no identity of that name yet" check (the keyring itself has no lock).
 */
async function underIndexLock<T>(options: IdentityStoreOptions, change: () => Promise<T>): Promise<T> {
  const path = identityIndexPath(options.env, options.homeDir);
  try {
    await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  } catch (e) {
    throw indexWriteError(path, e);
  }
  const { acquireFileLock } = await import('../fs/file-lock.js');
  const lock = await acquireFileLock(path);
  try {
    return await change();
  } finally {
    await lock.release();
  }
}

/** Writes the index atomically with mode 0600 in a 0700 directory. */
async function writeIdentityIndex(entries: readonly IdentityIndexEntry[], options: IdentityStoreOptions): Promise<void> {
  const path = identityIndexPath(options.env, options.homeDir);
  const dir = join(path, '..');
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify({ version: 1, identities: entries }, null, 2) + '\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    throw indexWriteError(path, e);
  }
}

/** Reads the identity (an age key file's text) stored under `name`, as bytes for the identity parser. */
export async function readKeyringIdentity(name: string, options: KeyringOptions): Promise<Uint8Array> {
  assertKeyringName(name, 'identity name');
  return Buffer.from(await keyringGet(SERVICE.identity, name, `keyring: ${name}`, options), 'utf8');
}

/**
 * Stores a key file's text under `name` and records its recipients in the index. Refuses (`exists`)
 * when the keyring already holds an identity of that name: overwriting would lose a key.
 */
export async function storeKeyringIdentity(name: string, keyFileText: string, recipients: readonly string[], options: IdentityStoreOptions): Promise<void> {
  assertKeyringName(name, 'identity name');
  await underIndexLock(options, async () => {
    const label = `keyring: ${name}`;
    const existing = await keyringGet(SERVICE.identity, name, label, options).then(
      () => true,
      (e: unknown) => {
        if (e instanceof WithSecretsError && e.code === 'keyring-not-found') return false;
        throw e;
      },
    );
    if (existing) {
      throw new WithSecretsError('exists', `${label}: the OS keyring already holds an identity with this name`, {
        hint: `choose another name, or remove it first: with-secrets identity rm ${name}`,
      });
    }
    // The index is read before the keyring changes, so an unreadable index changes nothing.
    const index = (await readIdentityIndex(options.env, options.homeDir)).filter((e) => e.name !== name);
    index.push({ name, recipients, created: new Date().toISOString() });
    await keyringSet(SERVICE.identity, name, keyFileText, label, options);
    try {
      await writeIdentityIndex(index, options);
    } catch (err) {
      // Without its index entry the identity would be invisible to `identity list` and block its own name: take it back out.
      const removed = await keyringDelete(SERVICE.identity, name, label, options).then(
        () => true,
        () => false,
      );
      if (removed) throw err;
      const e = err as WithSecretsError;
      throw new WithSecretsError(e.code, `${e.message}; the identity stays in the OS keyring as ${name}, unlisted`, {
        cause: err,
        hint: `fix the index directory, then remove it with: with-secrets identity rm ${name}`,
      });
    }
  });
}

/** Removes the identity `name` from the keyring and the index (an index entry alone is removed too). */
export async function removeKeyringIdentity(name: string, options: IdentityStoreOptions): Promise<void> {
  assertKeyringName(name, 'identity name');
  await underIndexLock(options, async () => {
    const index = await readIdentityIndex(options.env, options.homeDir);
    let failure: unknown;
    try {
      await keyringDelete(SERVICE.identity, name, `keyring: ${name}`, options);
    } catch (e) {
      failure = e;
    }
    const inIndex = index.some((e) => e.name === name);
    // A stale index entry (item already gone from the keyring) is cleaned up; a locked keyring is not "gone".
    if (inIndex && (failure === undefined || (failure instanceof WithSecretsError && failure.code === 'keyring-not-found'))) {
      await writeIdentityIndex(
        index.filter((e) => e.name !== name),
        options,
      );
      if (failure !== undefined) return;
    }
    if (failure !== undefined) throw failure;
  });
}
