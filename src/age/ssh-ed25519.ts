// age's native `ssh-ed25519` stanza (filippo.io/age/agessh) on node:crypto: identity and recipient.
import { createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, randomBytes } from 'node:crypto';
import { Stanza, type Recipient } from 'age-encryption';
import type { DescribedIdentity } from './age-key-identity.js';
import { b64NoPad, fromB64NoPad, sshKeyTag, wireBytes } from './ssh-wire.js';

const LABEL = 'age-encryption.org/v1/ssh-ed25519';
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const P = 2n ** 255n - 19n;

/** X25519(scalar, point) with node:crypto (RFC 7748 clamping); throws on an all-zero result. */
export function x25519(scalar: Uint8Array, point: Uint8Array): Buffer {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, scalar]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey({ key: Buffer.concat([SPKI_X25519, point]), format: 'der', type: 'spki' });
  return diffieHellman({ privateKey, publicKey });
}

/** X25519(scalar, basepoint). */
export function x25519Base(scalar: Uint8Array): Buffer {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, scalar]), format: 'der', type: 'pkcs8' });
  return createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519.length);
}

function modPow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b %= P;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}

/** The Montgomery u-coordinate of an Ed25519 public key: u = (1 + y) / (1 − y) mod p. */
export function ed25519PublicToX25519(pub: Uint8Array): Buffer {
  if (pub.length !== 32) throw new Error('bad ed25519 public key');
  const le = Buffer.from(pub);
  le[31]! &= 0x7f;
  const y = BigInt('0x' + Buffer.from(le).reverse().toString('hex'));
  if (y >= P || y === 1n) throw new Error('bad ed25519 public key');
  const u = ((1n + y) * modPow((1n - y + P) % P, P - 2n)) % P;
  return Buffer.from(u.toString(16).padStart(64, '0'), 'hex').reverse();
}

/** The wire encoding of an ssh-ed25519 public key. */
export function ed25519Wire(pub: Uint8Array): Buffer {
  return Buffer.concat([wireBytes('ssh-ed25519'), wireBytes(pub)]);
}

/** agessh's tweak: HKDF-SHA256 with an empty secret and the SSH public key as salt, binding the stanza to that key. */
function tweakOf(wire: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.alloc(0), wire, LABEL, 32));
}

function wrappingKey(shared: Uint8Array, ephemeralShare: Uint8Array, theirU: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralShare, theirU]), LABEL, 32));
}

const NONCE = Buffer.alloc(12);

/** An unencrypted Ed25519 SSH key as an age identity (`ssh-ed25519` stanzas). */
export class SshEd25519Identity implements DescribedIdentity {
  readonly kind = 'ssh-ed25519';
  readonly #scalar: Buffer;
  readonly #u: Buffer;
  readonly #wire: Buffer;
  readonly #tag: string;
  readonly #line: string;

  /** `seed` is the 32-byte Ed25519 private seed, `pub` its public key. */
  constructor(seed: Uint8Array, pub: Uint8Array) {
    this.#scalar = createHash('sha512').update(seed).digest().subarray(0, 32);
    this.#u = ed25519PublicToX25519(pub);
    this.#wire = ed25519Wire(pub);
    this.#tag = sshKeyTag(this.#wire);
    this.#line = `ssh-ed25519 ${this.#wire.toString('base64')}`;
  }

  /** Unwraps the file key from an `ssh-ed25519` stanza tagged for this key; null for any other. */
  unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
    for (const s of stanzas) {
      if (s.args[0] !== 'ssh-ed25519') continue;
      if (s.args.length !== 3) throw new Error('invalid ssh-ed25519 stanza');
      const share = fromB64NoPad(s.args[2]!);
      if (share === undefined || share.length !== 32) throw new Error('invalid ssh-ed25519 stanza');
      if (s.args[1] !== this.#tag) continue;
      if (s.body.length !== 32) throw new Error('invalid ssh-ed25519 stanza: incorrect file key size');
      let shared: Buffer;
      try {
        shared = x25519(this.#tweak(), x25519(this.#scalar, share));
      } catch {
        continue;
      }
      const key = wrappingKey(shared, share, this.#u);
      try {
        const d = createDecipheriv('chacha20-poly1305', key, NONCE, { authTagLength: 16 });
        d.setAuthTag(s.body.subarray(16));
        return Buffer.concat([d.update(s.body.subarray(0, 16)), d.final()]);
      } catch {
        // Same tag, different key (tags are 4 bytes): not ours.
        continue;
      }
    }
    return null;
  }

  #tweak(): Buffer {
    return tweakOf(this.#wire);
  }

  /** The `ssh-ed25519 AAAA…` public key line. */
  recipient(): Promise<string> {
    return Promise.resolve(this.#line);
  }

  toJSON(): { kind: string } {
    return { kind: this.kind };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'SshEd25519Identity';
  }
}

/** An `ssh-ed25519` public key as an age recipient. */
export class SshEd25519Recipient implements Recipient {
  readonly #u: Buffer;
  readonly #wire: Buffer;

  /** `pub` is the 32-byte Ed25519 public key. */
  constructor(pub: Uint8Array) {
    this.#u = ed25519PublicToX25519(pub);
    this.#wire = ed25519Wire(pub);
  }

  /** Wraps the file key in one `ssh-ed25519` stanza. */
  wrapFileKey(fileKey: Uint8Array): Stanza[] {
    const ephemeral = randomBytes(32);
    const share = x25519Base(ephemeral);
    const shared = x25519(tweakOf(this.#wire), x25519(ephemeral, this.#u));
    const key = wrappingKey(shared, share, this.#u);
    const c = createCipheriv('chacha20-poly1305', key, NONCE, { authTagLength: 16 });
    const body = Buffer.concat([c.update(fileKey), c.final(), c.getAuthTag()]);
    return [new Stanza(['ssh-ed25519', sshKeyTag(this.#wire), b64NoPad(share)], body)];
  }
}
