// age's native `ssh-rsa` stanza (RSA-OAEP-SHA256, label age-encryption.org/v1/ssh-rsa) on node:crypto.
import { constants, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import { Stanza, type Recipient } from 'age-encryption';
import type { DescribedIdentity } from './age-key-identity.js';
import { sshKeyTag, wireBytes, wireMpint } from './ssh-wire.js';

const LABEL = Buffer.from('age-encryption.org/v1/ssh-rsa');

/** The wire encoding of an ssh-rsa public key from its modulus and exponent (unsigned big-endian). */
export function rsaWire(n: Uint8Array, e: Uint8Array): Buffer {
  return Buffer.concat([wireBytes('ssh-rsa'), wireMpint(e), wireMpint(n)]);
}

/** An unencrypted RSA SSH key as an age identity (`ssh-rsa` stanzas). */
export class SshRsaIdentity implements DescribedIdentity {
  readonly kind = 'ssh-rsa';
  readonly #key: KeyObject;
  readonly #tag: string;
  readonly #line: string;

  /** `key` is the RSA private key; `wire` the wire encoding of its public key. */
  constructor(key: KeyObject, wire: Uint8Array) {
    this.#key = key;
    this.#tag = sshKeyTag(wire);
    this.#line = `ssh-rsa ${Buffer.from(wire).toString('base64')}`;
  }

  /** Unwraps the file key from an `ssh-rsa` stanza tagged for this key; null for any other. */
  unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
    for (const s of stanzas) {
      if (s.args[0] !== 'ssh-rsa') continue;
      if (s.args.length !== 2) throw new Error('invalid ssh-rsa stanza');
      if (s.args[1] !== this.#tag) continue;
      try {
        return privateDecrypt({ key: this.#key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: LABEL }, s.body);
      } catch {
        continue;
      }
    }
    return null;
  }

  /** The `ssh-rsa AAAA…` public key line. */
  recipient(): Promise<string> {
    return Promise.resolve(this.#line);
  }

  toJSON(): { kind: string } {
    return { kind: this.kind };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'SshRsaIdentity';
  }
}

/** An `ssh-rsa` public key as an age recipient. */
export class SshRsaRecipient implements Recipient {
  readonly #key: KeyObject;
  readonly #tag: string;

  /** `key` is the RSA public key, `wire` its SSH wire encoding (for the tag). */
  constructor(key: KeyObject, wire: Uint8Array) {
    this.#key = key;
    this.#tag = sshKeyTag(wire);
  }

  /** Wraps the file key in one `ssh-rsa` stanza. */
  wrapFileKey(fileKey: Uint8Array): Stanza[] {
    const body = publicEncrypt({ key: this.#key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: LABEL }, fileKey);
    return [new Stanza(['ssh-rsa', this.#tag], body)];
  }
}
