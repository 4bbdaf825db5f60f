// Age identities kept in the OS keyring (service `with-secrets-identity`, account NAME).
import { WithSecretsError } from '../errors.js';

/** Reads the identity stored under `name` (work in progress: the keyring backend lands next). */
export async function readKeyringIdentity(name: string): Promise<Uint8Array> {
  throw new WithSecretsError('keyring-unavailable', `keyring: ${name}: the OS keyring is not supported yet`);
}
