// Storing and removing keyring identities and their index entries; apart from identity-store.ts, which a launch reads, so a launch never loads the writing code.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WithSecretsError, errnoCode } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { acquireFileLock } from '../fs/file-lock.js';
import { SERVICE, keyringDelete, keyringGet, keyringSet } from './client.js';
import { identityIndexPath, readIdentityIndex, type IdentityIndexEntry, type IdentityStoreOptions } from './identity-store.js';
import { assertKeyringName } from './names.js';

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
  const lock = await acquireFileLock(path);
  try {
    return await change();
  } finally {
    await lock.release();
  }
}

/** Writes the index atomically ({@link writeFileAtomic}), mode 0600, in the directory {@link underIndexLock} made. */
async function writeIdentityIndex(entries: readonly IdentityIndexEntry[], options: IdentityStoreOptions): Promise<void> {
  const path = identityIndexPath(options.env, options.homeDir);
  try {
    await writeFileAtomic(path, JSON.stringify({ version: 1, identities: entries }, null, 2) + '\n', { newFileMode: 0o600 });
  } catch (e) {
    // writeFileAtomic's own error wraps the errno this message names.
    throw indexWriteError(path, e instanceof WithSecretsError && e.cause !== undefined ? e.cause : e);
  }
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
