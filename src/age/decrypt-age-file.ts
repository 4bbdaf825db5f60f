// Decrypts a whole age file (binary or armored) with the identities of a provider: the `{age: FILE}` secret reference.
import { WithSecretsError } from '../errors.js';
import type { IdentityProvider } from './provider.js';
import { X25519Identity } from './x25519-identity.js';
import { AgeFileError, dearmor, decryptX25519 } from './x25519-unwrap.js';

const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';

/** Why a source did not open the file (never content or key material). */
type Failure = 'no identity matched' | 'malformed' | 'failed';

async function tryOpen(file: Buffer, identities: readonly unknown[]): Promise<Uint8Array | Failure> {
  if (identities.length === 0) return 'no identity matched';
  if (identities.every((i): i is X25519Identity => i instanceof X25519Identity)) {
    try {
      return decryptX25519(file, identities) ?? 'no identity matched';
    } catch (e) {
      return e instanceof AgeFileError && e.failure === 'header' ? 'malformed' : 'failed';
    }
  }
  const age = await import('age-encryption');
  const d = new age.Decrypter();
  for (const identity of identities as Parameters<typeof d.addIdentity>[0][]) d.addIdentity(identity);
  try {
    return await d.decrypt(file);
  } catch (e) {
    // age-encryption throws plain Errors; only "no identity matched" is a normal outcome.
    return e instanceof Error && /no identity matched/.test(e.message) ? 'no identity matched' : 'failed';
  }
}

/**
 * Decrypts the age file `bytes` (read from `path`, named in errors) with the provider's sources in
 * order, loading each only when the earlier ones did not match. Throws `no-identity` listing the
 * sources tried, `malformed` for a file that is not age, `decrypt-failed` when it fails authentication.
 */
export async function decryptAgeFile(bytes: Uint8Array, path: string, provider: IdentityProvider): Promise<Uint8Array> {
  let file = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = file.subarray(0, 64).toString('latin1').trimStart();
  if (start.startsWith(ARMOR_BEGIN)) {
    try {
      file = dearmor(file.toString('latin1'));
    } catch (e) {
      throw new WithSecretsError('malformed', `${path}: not a valid armored age file`, { cause: e });
    }
  } else if (!start.startsWith('age-encryption.org/')) {
    throw new WithSecretsError('malformed', `${path} is not an age-encrypted file`, { hint: 'encrypt it with `age -r RECIPIENT`, or use a {file: …} reference for a plaintext file' });
  }
  let worst: Failure = 'no identity matched';
  for await (const source of provider.sources()) {
    const out = await tryOpen(file, source.identities);
    if (typeof out !== 'string') return out;
    if (out !== 'no identity matched') worst = out;
    if (out === 'malformed') break;
  }
  if (worst === 'malformed') throw new WithSecretsError('malformed', `${path}: the age header is malformed`);
  if (worst === 'failed') throw new WithSecretsError('decrypt-failed', `${path}: an identity matched but the file did not decrypt (damaged or tampered with)`);
  const tried = provider.report();
  throw new WithSecretsError('no-identity', [`no identity opened ${path}`, '  identity sources tried:', ...(tried.length === 0 ? ['    (none found)'] : tried.map((t) => `    ${t}`))].join('\n'), {
    hint: 'encrypt it to a recipient whose key with-secrets finds (SOPS_AGE_KEY_FILE, the sops keys.txt, or identities: in the config)',
  });
}
