// Parses unencrypted OpenSSH (and PEM) ed25519 and RSA private keys into native age SSH identities.
import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { WithSecretsError } from '../errors.js';
import type { DescribedIdentity } from './age-key-identity.js';
import { encryptedSshKey } from './identity-content.js';
import { SshEd25519Identity } from './ssh-ed25519.js';
import { SshRsaIdentity, rsaWire } from './ssh-rsa.js';
import { WireReader, mpintMagnitude } from './ssh-wire.js';

const MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

/** age refuses RSA keys under 2048 bits (agessh); so do we. */
const MIN_RSA_BYTES = 2048 / 8;

/**
 * Parses an SSH private key: OpenSSH format (`BEGIN OPENSSH PRIVATE KEY`) or PEM (PKCS#1/PKCS#8),
 * ed25519 or RSA, unencrypted. A passphrase-protected key gets an error naming the alternatives;
 * other key types (ECDSA, security keys) an `identity-invalid` naming the type.
 */
export function parseSshPrivateKey(text: string, label: string): DescribedIdentity {
  if (text.includes('-----BEGIN OPENSSH PRIVATE KEY-----')) return parseOpenSsh(text, label);
  return parsePem(text, label);
}

function malformed(label: string): WithSecretsError {
  return new WithSecretsError('identity-invalid', `${label}: malformed SSH private key`);
}

function unsupported(label: string, type: string): WithSecretsError {
  return new WithSecretsError('identity-invalid', `${label}: SSH key type ${JSON.stringify(type.slice(0, 40))} cannot be an age identity`, {
    hint: 'age reads ssh-ed25519 and ssh-rsa keys; use one of those, or an age key',
  });
}

function parseOpenSsh(text: string, label: string): DescribedIdentity {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (!m) throw malformed(label);
  const blob = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  try {
    if (!blob.subarray(0, MAGIC.length).equals(MAGIC)) throw malformed(label);
    const r = new WireReader(blob.subarray(MAGIC.length));
    const cipher = r.string();
    r.string(); // kdf name
    r.bytes(); // kdf options
    if (cipher !== 'none') throw encryptedSshKey(label);
    if (r.u32() !== 1) throw new WithSecretsError('identity-invalid', `${label}: holds several SSH keys; age reads one per file`);
    r.bytes(); // public key (repeated in the private section)
    const priv = new WireReader(r.bytes());
    if (priv.u32() !== priv.u32()) throw malformed(label);
    const type = priv.string();
    if (type === 'ssh-ed25519') {
      const pub = priv.bytes();
      const both = priv.bytes();
      if (pub.length !== 32 || both.length !== 64 || !both.subarray(32).equals(pub)) throw malformed(label);
      return new SshEd25519Identity(both.subarray(0, 32), pub);
    }
    if (type === 'ssh-rsa') {
      const n = mpintMagnitude(priv.bytes());
      const e = mpintMagnitude(priv.bytes());
      const d = mpintMagnitude(priv.bytes());
      const iqmp = mpintMagnitude(priv.bytes());
      const p = mpintMagnitude(priv.bytes());
      const q = mpintMagnitude(priv.bytes());
      return rsaIdentity(rsaFromParts(n, e, d, p, q, iqmp), label);
    }
    throw unsupported(label, type);
  } catch (e) {
    if (e instanceof WithSecretsError) throw e;
    throw malformed(label);
  }
}

function parsePem(text: string, label: string): DescribedIdentity {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch (e) {
    // Node's message may describe the key; it is kept as cause only (never printed).
    throw new WithSecretsError('identity-invalid', `${label}: malformed PEM private key`, { cause: e });
  }
  // Only Ed25519 and RSA keys are age identities; ask nothing else of the others (DSA and DH keys have no JWK form).
  if (key.asymmetricKeyType === 'ed25519') {
    const jwk = key.export({ format: 'jwk' });
    if (jwk.d !== undefined && jwk.x !== undefined) return new SshEd25519Identity(Buffer.from(jwk.d, 'base64url'), Buffer.from(jwk.x, 'base64url'));
  }
  if (key.asymmetricKeyType === 'rsa') return rsaIdentity(key, label);
  throw unsupported(label, key.asymmetricKeyType ?? 'unknown');
}

function rsaIdentity(key: KeyObject, label: string): SshRsaIdentity {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.n === undefined || jwk.e === undefined) throw malformed(label);
  const n = Buffer.from(jwk.n, 'base64url');
  if (n.length < MIN_RSA_BYTES) throw new WithSecretsError('identity-invalid', `${label}: RSA key shorter than 2048 bits, which age refuses`);
  return new SshRsaIdentity(key, rsaWire(n, Buffer.from(jwk.e, 'base64url')));
}

const big = (b: Buffer): bigint => BigInt('0x' + (b.length ? b.toString('hex') : '0'));
const bytes = (x: bigint): Buffer => {
  const h = x.toString(16);
  return Buffer.from(h.length % 2 ? '0' + h : h, 'hex');
};

/** An RSA private key from OpenSSH's parts (dp and dq, which OpenSSH does not store, are derived). */
function rsaFromParts(n: Buffer, e: Buffer, d: Buffer, p: Buffer, q: Buffer, iqmp: Buffer): KeyObject {
  const dBig = big(d);
  const jwk: JsonWebKey = {
    kty: 'RSA',
    n: n.toString('base64url'),
    e: e.toString('base64url'),
    d: d.toString('base64url'),
    p: p.toString('base64url'),
    q: q.toString('base64url'),
    dp: bytes(dBig % (big(p) - 1n)).toString('base64url'),
    dq: bytes(dBig % (big(q) - 1n)).toString('base64url'),
    qi: iqmp.toString('base64url'),
  };
  return createPrivateKey({ key: jwk, format: 'jwk' });
}
