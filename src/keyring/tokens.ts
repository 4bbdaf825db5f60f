// Tokens in the OS keyring (service `with-secrets`, account NAME, envchain style) for `{keyring: NAME}` references.
import { WithSecretsError } from '../errors.js';
import { SERVICE, keyringDelete, keyringGet, keyringSet, type KeyringOptions } from './client.js';
import { assertKeyringName } from './names.js';

// Interoperability: `secret-tool lookup service with-secrets account NAME` prints what `with-secrets keyring
// set NAME` stored, and a value stored with
//   secret-tool store --label=NAME service with-secrets account NAME xdg:schema org.freedesktop.Secret.Generic
// is read here. keytar looks items up under that schema name, so the `xdg:schema` attribute is required
// (measured: an item secret-tool stored without it is not found). secret-tool stores a piped value with its
// trailing newline; one trailing newline is dropped on reading.

/**
 * Reads the token stored under `name` for a `{keyring: NAME}` secret reference. Errors:
 * `keyring-not-found`, `keyring-locked`, `keyring-unavailable` (each within the keyring time limit).
 */
export async function readKeyringSecret(name: string, options: KeyringOptions): Promise<string> {
  assertKeyringName(name, 'keyring name');
  const value = await keyringGet(SERVICE.token, name, `keyring: ${name}`, options);
  return value.replace(/\r?\n$/, '');
}

/** Stores `value` under `name`, replacing an earlier value; empty values are refused. */
export async function setKeyringSecret(name: string, value: string, options: KeyringOptions): Promise<void> {
  assertKeyringName(name, 'keyring name');
  if (value === '') throw new WithSecretsError('usage', `keyring: ${name}: empty value refused`);
  await keyringSet(SERVICE.token, name, value, `keyring: ${name}`, options);
}

/** Removes the token `name`; `keyring-not-found` when there is none. */
export async function removeKeyringSecret(name: string, options: KeyringOptions): Promise<void> {
  assertKeyringName(name, 'keyring name');
  await keyringDelete(SERVICE.token, name, `keyring: ${name}`, options);
}
