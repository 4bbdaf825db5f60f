// Turns an `AGE-SECRET-KEY-1…` / `AGE-SECRET-KEY-PQ-1…` string into an identity without loading age-encryption up front.
import type { Stanza } from 'age-encryption';
import type { AgeSecretKeyIdentity, DescribedIdentity } from './age-key-identity.js';
import { decodeBech32 } from './bech32.js';
import { X25519Identity } from './x25519-identity.js';

/**
 * A post-quantum hybrid key, checked now and handed to age-encryption (via `AgeSecretKeyIdentity`)
 * only when it is first used, so that merely reading a key file never loads the ML-KEM code.
 */
class DeferredHybridIdentity implements DescribedIdentity {
  readonly kind = 'mlkem768x25519';
  readonly #secret: string;
  #inner: Promise<AgeSecretKeyIdentity> | undefined;

  constructor(secret: string) {
    this.#secret = secret;
  }

  #load(): Promise<AgeSecretKeyIdentity> {
    this.#inner ??= import('./age-key-identity.js').then((m) => new m.AgeSecretKeyIdentity(this.#secret));
    return this.#inner;
  }

  async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
    return (await this.#load()).unwrapFileKey(stanzas);
  }

  async recipient(): Promise<string> {
    return (await this.#load()).recipient();
  }

  /** Never serialise the key: JSON and util.inspect show only the kind. */
  toJSON(): { kind: string } {
    return { kind: this.kind };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `AgeSecretKeyIdentity(${this.kind})`;
  }
}

/**
 * Parses one age secret key: X25519 keys become node:crypto {@link X25519Identity} objects (the
 * launch fast path), hybrid keys a deferred age-encryption identity. Returns null for a malformed
 * key (bad checksum, prefix or length) so that no error can quote it.
 */
export function parseAgeSecretKey(word: string): DescribedIdentity | null {
  if (word.startsWith('AGE-SECRET-KEY-1')) return X25519Identity.parse(word);
  if (!word.startsWith('AGE-SECRET-KEY-PQ-1')) return null;
  const decoded = decodeBech32(word);
  if (decoded === null || decoded.prefix !== 'age-secret-key-pq-' || decoded.bytes.length !== 32) return null;
  decoded.bytes.fill(0);
  return new DeferredHybridIdentity(word);
}
