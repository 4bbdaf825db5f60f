// Native age identities (X25519 and post-quantum hybrid) as `Identity` objects that also know their recipient.
import { Decrypter, identityToRecipient, type Identity, type Stanza } from 'age-encryption';
import { InternalError } from '../errors.js';

/** An identity that can say, without exposing key material, which recipient it answers to. */
export interface DescribedIdentity extends Identity {
  /** The stanza type it unwraps: `X25519`, `mlkem768x25519`, `ssh-ed25519` or `ssh-rsa`. */
  readonly kind: string;
  /** The public recipient string (`age1…`, `age1pq1…`, or an SSH public key line). */
  recipient(): Promise<string>;
}

/** The shape of the one-identity unwrap that `Decrypter` runs for each identity it holds. */
interface UnwrapsFileKey {
  unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null>;
}

/**
 * An `AGE-SECRET-KEY-1…` or `AGE-SECRET-KEY-PQ-1…` key. age-encryption exports no identity classes
 * (its package `exports` hides recipients.js), so a one-identity `Decrypter` does the unwrap: its
 * `unwrapFileKey` is private in the typings only (age-encryption is pinned to 0.3.1; a test guards it).
 */
export class AgeSecretKeyIdentity implements DescribedIdentity {
  readonly kind: string;
  readonly #secret: string;
  readonly #inner: UnwrapsFileKey;
  #recipient: Promise<string> | undefined;

  /** Throws a plain `Error` (from age-encryption) when `secret` is not a valid key; callers wrap it. */
  constructor(secret: string) {
    const decrypter = new Decrypter();
    decrypter.addIdentity(secret);
    const inner = decrypter as unknown as Partial<UnwrapsFileKey>;
    if (typeof inner.unwrapFileKey !== 'function') {
      throw new InternalError('age-encryption has no Decrypter.unwrapFileKey; its version changed');
    }
    this.#inner = inner as UnwrapsFileKey;
    this.#secret = secret;
    this.kind = secret.startsWith('AGE-SECRET-KEY-PQ-1') ? 'mlkem768x25519' : 'X25519';
  }

  /** Unwraps the file key from a stanza addressed to this key, or returns null. */
  unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
    return this.#inner.unwrapFileKey(stanzas);
  }

  /** The `age1…` / `age1pq1…` recipient of this key. */
  recipient(): Promise<string> {
    this.#recipient ??= identityToRecipient(this.#secret);
    return this.#recipient;
  }

  /** Never serialise the key: JSON and util.inspect show only the kind. */
  toJSON(): { kind: string } {
    return { kind: this.kind };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `AgeSecretKeyIdentity(${this.kind})`;
  }
}

/** True when `x` carries a recipient description (every identity src/age creates does). */
export function isDescribedIdentity(x: Identity): x is DescribedIdentity {
  return typeof (x as Partial<DescribedIdentity>).recipient === 'function' && typeof (x as Partial<DescribedIdentity>).kind === 'string';
}
