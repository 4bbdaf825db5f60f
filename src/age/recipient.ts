// Parses recipient strings (X25519, post-quantum hybrid, ssh-ed25519, ssh-rsa) into age `Recipient`s.
import { createPublicKey } from 'node:crypto';
import { Encrypter, type Recipient, type Stanza } from 'age-encryption';
import { WithSecretsError } from '../errors.js';
import { SshEd25519Recipient } from './ssh-ed25519.js';
import { SshRsaRecipient, rsaWire } from './ssh-rsa.js';
import { WireReader, mpintMagnitude } from './ssh-wire.js';

/** A recipient with its kind and the string it was parsed from (trimmed; an SSH comment is kept). */
export interface ParsedRecipient extends Recipient {
  readonly kind: 'X25519' | 'mlkem768x25519' | 'ssh-ed25519' | 'ssh-rsa';
  readonly text: string;
}

/** A native recipient string, wrapped by a one-recipient `Encrypter` (age-encryption hides its classes). */
class NativeRecipient implements ParsedRecipient {
  readonly #inner: Recipient;
  constructor(
    readonly kind: 'X25519' | 'mlkem768x25519',
    readonly text: string,
  ) {
    const e = new Encrypter();
    e.addRecipient(text); // validates; throws on a bad checksum or length
    const list = (e as unknown as { recipients?: Recipient[] }).recipients;
    if (!Array.isArray(list) || list.length !== 1) throw new Error('age-encryption internals changed');
    this.#inner = list[0]!;
  }
  wrapFileKey(fileKey: Uint8Array): Stanza[] | Promise<Stanza[]> {
    return this.#inner.wrapFileKey(fileKey);
  }
}

/** Wraps SSH recipients to carry kind and text. */
function withText<R extends Recipient>(r: R, kind: ParsedRecipient['kind'], text: string): ParsedRecipient {
  return { kind, text, wrapFileKey: (k: Uint8Array) => r.wrapFileKey(k) };
}

function invalid(what: string): WithSecretsError {
  return new WithSecretsError('usage', `not a valid recipient: ${what}`, {
    hint: 'a recipient is an age1… or age1pq1… string, or an ssh-ed25519 / ssh-rsa public key line',
  });
}

/**
 * Parses one recipient: `age1…` (X25519), `age1pq1…` (ML-KEM-768+X25519 hybrid), or an OpenSSH
 * public key line `ssh-ed25519 AAAA… [comment]` / `ssh-rsa AAAA… [comment]` (age's native SSH
 * stanzas). Plugin recipients (`age1name1…`) and other SSH key types are refused with `usage`.
 */
export function parseRecipient(input: string): ParsedRecipient {
  const text = input.trim();
  if (text.startsWith('age1pq1')) {
    try {
      return new NativeRecipient('mlkem768x25519', text);
    } catch {
      throw invalid('malformed age1pq1 recipient');
    }
  }
  if (/^age1[02-9ac-hj-np-z]+$/.test(text)) {
    try {
      return new NativeRecipient('X25519', text);
    } catch {
      throw invalid('malformed age1 recipient');
    }
  }
  if (/^age1[a-z0-9]+1/.test(text)) throw invalid('age plugin recipients are not supported yet');
  const m = /^(ssh-ed25519|ssh-rsa)\s+([A-Za-z0-9+/=]+)(\s.*)?$/.exec(text);
  if (!m) {
    if (/^(ssh-|ecdsa-|sk-)/.test(text)) throw invalid('only ssh-ed25519 and ssh-rsa SSH keys can be age recipients');
    throw invalid('unknown recipient type');
  }
  const type = m[1]!;
  const wire = Buffer.from(m[2]!, 'base64');
  try {
    const r = new WireReader(wire);
    if (r.string() !== type) throw invalid('the key type does not match its encoding');
    if (type === 'ssh-ed25519') {
      const pub = r.bytes();
      if (pub.length !== 32 || r.remaining !== 0) throw invalid('malformed ssh-ed25519 key');
      return withText(new SshEd25519Recipient(pub), 'ssh-ed25519', text);
    }
    const e = mpintMagnitude(r.bytes());
    const n = mpintMagnitude(r.bytes());
    if (r.remaining !== 0) throw invalid('malformed ssh-rsa key');
    if (n.length < 2048 / 8) throw invalid('RSA key shorter than 2048 bits');
    const key = createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') }, format: 'jwk' });
    return withText(new SshRsaRecipient(key, rsaWire(n, e)), 'ssh-rsa', text);
  } catch (e) {
    if (e instanceof WithSecretsError) throw e;
    throw invalid(`malformed ${type} key`);
  }
}
