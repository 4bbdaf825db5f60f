// Age identities kept in the OS keyring (service `with-secrets-identity`, account NAME), plus a non-secret index: reading them (identity-changes.ts stores and removes).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WithSecretsError, errnoCode } from '../errors.js';
import { SERVICE, keyringGet, type KeyringOptions } from './client.js';
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

/** Reads the identity (an age key file's text) stored under `name`, as bytes for the identity parser. */
export async function readKeyringIdentity(name: string, options: KeyringOptions): Promise<Uint8Array> {
  assertKeyringName(name, 'identity name');
  return Buffer.from(await keyringGet(SERVICE.identity, name, `keyring: ${name}`, options), 'utf8');
}
