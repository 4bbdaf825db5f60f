// An age X25519 identity (`AGE-SECRET-KEY-1…`) on node:crypto alone, so the launch path need not load age-encryption.
import { createPrivateKey, createPublicKey, diffieHellman, hkdfSync, createDecipheriv, type KeyObject } from 'node:crypto';
import type { Stanza } from 'age-encryption';
import { decodeBech32, encodeBech32 } from './bech32.js';

/**
 * Raw X25519 keys enter and leave node:crypto as JWK (RFC 8037 OKP): Node makes those keys from the
 * raw bytes directly, while DER (PKCS#8/SPKI) goes through OpenSSL 3's decoder framework, whose
 * first use costs ~1.5 ms of a launch (perf, issue 7). For a private JWK Node checks only that `x`
 * is a string and uses `d`.
 */
const jwkPrivate = (raw: Uint8Array) => ({ kty: 'OKP', crv: 'X25519', d: Buffer.from(raw).toString('base64url'), x: '' });
const jwkPublic = (raw: Uint8Array) => ({ kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') });
const X25519_LABEL = Buffer.from('age-encryption.org/v1/X25519');
const FILE_KEY_SIZE = 16;
const TAG_SIZE = 16;

/** A stanza that matched an X25519 identity's type but is malformed (a "header failure" in age's terms). */
export class MalformedStanzaError extends Error {
  constructor(what: string) {
    super(`invalid X25519 stanza: ${what}`);
    this.name = 'MalformedStanzaError';
  }
}

/** Decodes canonical unpadded base64 (age's encoding), or returns null. */
export function decodeBase64NoPad(s: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]*$/.test(s) || s.length % 4 === 1) return null;
  const bytes = Buffer.from(s, 'base64');
  // Re-encoding catches non-zero trailing bits, which would make the encoding malleable.
  return bytes.toString('base64').replace(/=+$/, '') === s ? bytes : null;
}

/** Raw 32-byte X25519 public key of a KeyObject. */
function rawPublicKey(key: KeyObject): Buffer {
  return Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x ?? '', 'base64url');
}

/** Decrypts a ChaCha20-Poly1305 message (ciphertext ‖ tag) with a zero nonce, or returns null on a bad tag. */
function openZeroNonce(key: Buffer, sealed: Uint8Array): Buffer | null {
  const decipher = createDecipheriv('chacha20-poly1305', key, Buffer.alloc(12), { authTagLength: TAG_SIZE });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
  const out = decipher.update(sealed.subarray(0, sealed.length - TAG_SIZE));
  try {
    return Buffer.concat([out, decipher.final()]);
  } catch {
    return null;
  }
}

/**
 * An `AGE-SECRET-KEY-1…` identity. It satisfies age-encryption's `Identity` interface (so the general
 * decrypter can use it too) and src/age's `DescribedIdentity` shape (`kind`, `recipient()`), and it
 * never shows its key in JSON or util.inspect.
 */
export class X25519Identity {
  readonly kind = 'X25519';
  readonly #privateKey: KeyObject;
  readonly #publicKey: Buffer;

  private constructor(privateKey: KeyObject) {
    this.#privateKey = privateKey;
    this.#publicKey = rawPublicKey(privateKey);
  }

  /** Parses an `AGE-SECRET-KEY-1…` string; returns null (never a message quoting the key) when it is not one. */
  static parse(secret: string): X25519Identity | null {
    if (!secret.startsWith('AGE-SECRET-KEY-1')) return null;
    const decoded = decodeBech32(secret);
    if (decoded === null || decoded.prefix !== 'age-secret-key-' || decoded.bytes.length !== 32) return null;
    try {
      return new X25519Identity(createPrivateKey({ key: jwkPrivate(decoded.bytes), format: 'jwk' }));
    } finally {
      decoded.bytes.fill(0);
    }
  }

  /** The `age1…` recipient of this key. */
  recipient(): Promise<string> {
    return Promise.resolve(this.recipientSync());
  }

  /** The `age1…` recipient of this key, synchronously. */
  recipientSync(): string {
    return encodeBech32('age', this.#publicKey);
  }

  /**
   * Unwraps the 16-byte file key from the first `X25519` stanza addressed to this key, or returns
   * null when none is. Throws {@link MalformedStanzaError} for a malformed X25519 stanza, as age does.
   */
  unwrapFileKey(stanzas: readonly Pick<Stanza, 'args' | 'body'>[]): Promise<Uint8Array | null> {
    try {
      return Promise.resolve(this.unwrapFileKeySync(stanzas));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Synchronous {@link unwrapFileKey}, for the fast path. */
  unwrapFileKeySync(stanzas: readonly Pick<Stanza, 'args' | 'body'>[]): Uint8Array | null {
    for (const s of stanzas) {
      if (s.args[0] !== 'X25519') continue;
      if (s.args.length !== 2) throw new MalformedStanzaError('wrong number of arguments');
      const share = decodeBase64NoPad(s.args[1]!);
      if (share === null || share.length !== 32) throw new MalformedStanzaError('bad share');
      let shared: Buffer;
      try {
        const peer = createPublicKey({ key: jwkPublic(share), format: 'jwk' });
        shared = diffieHellman({ privateKey: this.#privateKey, publicKey: peer });
      } catch (cause) {
        // OpenSSL refuses a low-order share (all-zero shared secret).
        throw new MalformedStanzaError(`share is not usable (${(cause as { code?: string }).code ?? 'error'})`);
      }
      if (shared.every((b) => b === 0)) throw new MalformedStanzaError('share is a low-order point');
      const salt = Buffer.concat([share, this.#publicKey]);
      const key = Buffer.from(hkdfSync('sha256', shared, salt, X25519_LABEL, 32));
      shared.fill(0);
      if (s.body.length !== FILE_KEY_SIZE + TAG_SIZE) throw new MalformedStanzaError('wrong file key size');
      const fileKey = openZeroNonce(key, s.body);
      key.fill(0);
      if (fileKey !== null) return fileKey;
    }
    return null;
  }

  /** Never serialise the key: JSON shows only the kind. */
  toJSON(): { kind: string } {
    return { kind: this.kind };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'X25519Identity';
  }
}
