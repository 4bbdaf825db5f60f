// Parses unencrypted OpenSSH ed25519 and RSA private keys into native age SSH identities.
import { WithSecretsError } from '../errors.js';
import type { DescribedIdentity } from './age-key-identity.js';

/** Parses an SSH private key into an `ssh-ed25519` or `ssh-rsa` identity (work in progress). */
export function parseSshPrivateKey(_text: string, label: string): DescribedIdentity {
  throw new WithSecretsError('identity-invalid', `${label}: SSH keys are not supported yet`);
}
