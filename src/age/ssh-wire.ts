// The SSH wire encoding (RFC 4251 strings and mpints) and age's 4-byte key tag, as the SSH stanzas use them.
import { createHash } from 'node:crypto';

/** Reads SSH wire-format fields from a buffer; throws a plain `Error` on truncation (callers wrap it). */
export class WireReader {
  #offset = 0;
  constructor(private readonly buf: Buffer) {}

  /** Bytes not read yet. */
  get remaining(): number {
    return this.buf.length - this.#offset;
  }

  /** A big-endian uint32. */
  u32(): number {
    if (this.remaining < 4) throw new Error('truncated');
    const v = this.buf.readUInt32BE(this.#offset);
    this.#offset += 4;
    return v;
  }

  /** A length-prefixed byte string. */
  bytes(): Buffer {
    const n = this.u32();
    if (n > this.remaining) throw new Error('truncated');
    const v = this.buf.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return v;
  }

  /** A length-prefixed string, as UTF-8. */
  string(): string {
    return this.bytes().toString('utf8');
  }

  /** `n` raw bytes. */
  raw(n: number): Buffer {
    if (n > this.remaining) throw new Error('truncated');
    const v = this.buf.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return v;
  }
}

/** Encodes a length-prefixed byte string. */
export function wireBytes(b: Uint8Array | string): Buffer {
  const body = typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** Encodes an unsigned big-endian magnitude as an SSH mpint (minimal, with a 0 byte when the top bit is set). */
export function wireMpint(magnitude: Uint8Array): Buffer {
  let i = 0;
  while (i < magnitude.length && magnitude[i] === 0) i++;
  let m = Buffer.from(magnitude.subarray(i));
  if (m.length > 0 && (m[0]! & 0x80) !== 0) m = Buffer.concat([Buffer.from([0]), m]);
  return wireBytes(m);
}

/** Strips the sign byte of an mpint, giving the unsigned magnitude. */
export function mpintMagnitude(m: Buffer): Buffer {
  let i = 0;
  while (i < m.length - 1 && m[i] === 0) i++;
  return m.subarray(i);
}

/** age's stanza tag of an SSH key: the first 4 bytes of SHA-256 of its wire encoding, base64 without padding. */
export function sshKeyTag(wirePublicKey: Uint8Array): string {
  return createHash('sha256').update(wirePublicKey).digest().subarray(0, 4).toString('base64').replace(/=+$/, '');
}

/** Base64 without padding, as age writes stanza arguments. */
export function b64NoPad(b: Uint8Array): string {
  return Buffer.from(b).toString('base64').replace(/=+$/, '');
}

/** Decodes unpadded canonical base64 as age requires; returns undefined if it is not. */
export function fromB64NoPad(s: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*$/.test(s)) return undefined;
  const b = Buffer.from(s, 'base64');
  return b64NoPad(b) === s ? b : undefined;
}
