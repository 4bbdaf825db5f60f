// Decrypts an age file (such as a sops `enc` data key) for X25519 identities on node:crypto alone: armor, header, HMAC, STREAM.
import { createDecipheriv, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { decodeBase64NoPad, MalformedStanzaError, X25519Identity } from './x25519-identity.js';

/** Which layer of the age format rejected a file (the failure classes of the C2SP age test vectors). */
export type AgeFailure = 'armor' | 'header' | 'hmac' | 'payload';

/** An age file this module could not decrypt; `failure` says which layer refused it. Never quotes file content. */
export class AgeFileError extends Error {
  readonly failure: AgeFailure;
  constructor(failure: AgeFailure, what: string) {
    super(`age file: ${what}`);
    this.name = 'AgeFileError';
    this.failure = failure;
  }
}

const INTRO = 'age-encryption.org/v1';
const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
const ARMOR_END = '-----END AGE ENCRYPTED FILE-----';
const COLUMNS = 64;
const BYTES_PER_LINE = 48;
const MAX_ARMOR_WHITESPACE = 1024;
const NONCE_SIZE = 16;
const CHUNK_SIZE = 64 * 1024;
const TAG_SIZE = 16;

/** True for the bytes Go's bytes.TrimSpace removes in ASCII. */
const isSpace = (s: string): boolean => /^[ \t\n\v\f\r]*$/.test(s);

/** Decodes canonical padded base64 (one armor line), or returns null. */
function decodeBase64Padded(s: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return null;
  const bytes = Buffer.from(s, 'base64');
  return bytes.toString('base64') === s ? bytes : null;
}

/**
 * Removes the ASCII armor (PEM-like, 64 columns, strict base64), following age's armor reader:
 * whitespace around the armor is allowed (up to 1 KiB), CRLF line ends too, nothing else.
 */
export function dearmor(text: string): Buffer {
  const fail = (what: string): never => {
    throw new AgeFileError('armor', what);
  };
  let pos = 0;
  const nextLine = (): string => {
    if (pos >= text.length) fail('unexpected end of armor');
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl;
    let line = text.slice(pos, end);
    pos = nl < 0 ? text.length : nl + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    return line;
  };
  let skipped = 0;
  for (;;) {
    const line = nextLine();
    if (isSpace(line)) {
      skipped += line.length + 1;
      if (skipped > MAX_ARMOR_WHITESPACE) fail('too much leading whitespace');
      continue;
    }
    if (line !== ARMOR_BEGIN) fail('invalid first line');
    break;
  }
  const parts: Buffer[] = [];
  for (;;) {
    const line = nextLine();
    if (line === ARMOR_END) break;
    if (line.length > COLUMNS) fail('column limit exceeded');
    // A full line followed by an empty one is not canonical: the writer ends with the footer instead.
    if (line.length === 0) fail('empty line');
    const bytes = decodeBase64Padded(line);
    if (bytes === null) fail('invalid base64');
    parts.push(bytes!);
    if (bytes!.length < BYTES_PER_LINE) {
      if (nextLine() !== ARMOR_END) fail('invalid closing line');
      break;
    }
  }
  const rest = text.slice(pos);
  if (!isSpace(rest)) fail('trailing data after armored file');
  if (rest.length >= MAX_ARMOR_WHITESPACE) fail('too much trailing whitespace');
  return Buffer.concat(parts);
}

/** A parsed age header. */
export interface AgeHeader {
  /** The stanzas in order; `args[0]` is the type, as age-encryption's `Stanza`. */
  readonly stanzas: { readonly args: string[]; readonly body: Uint8Array }[];
  /** The header bytes the MAC covers (up to and including `---`). */
  readonly macInput: Buffer;
  readonly mac: Buffer;
  /** Offset of the payload (the nonce) in the file. */
  readonly payloadOffset: number;
}

const isValidArg = (a: string): boolean => a.length > 0 && /^[\x21-\x7e]+$/.test(a);

/** Parses the header of a binary age file strictly (canonical encoding only, as age's format package). */
export function parseHeader(file: Buffer): AgeHeader {
  const fail = (what: string): never => {
    throw new AgeFileError('header', what);
  };
  let pos = 0;
  const nextLine = (): string => {
    const nl = file.indexOf(0x0a, pos);
    if (nl < 0) fail('unexpected end of header');
    const line = file.toString('latin1', pos, nl);
    pos = nl + 1;
    return line;
  };
  if (nextLine() !== INTRO) fail('unsupported version or not an age file');
  const stanzas: { args: string[]; body: Uint8Array }[] = [];
  for (;;) {
    const lineStart = pos;
    const line = nextLine();
    if (line.startsWith('---')) {
      const words = line.split(' ');
      if (words[0] !== '---' || words.length !== 2) fail('malformed closing line');
      const mac = decodeBase64NoPad(words[1]!);
      if (mac === null || mac.length !== 32) fail('malformed MAC');
      return { stanzas, macInput: file.subarray(0, lineStart + 3), mac: mac!, payloadOffset: pos };
    }
    const words = line.split(' ');
    if (words[0] !== '->' || words.length < 2 || !words.slice(1).every(isValidArg)) fail('malformed stanza opening line');
    const body: Buffer[] = [];
    for (;;) {
      const bodyLine = nextLine();
      // Go's base64 decoder skips CR and LF; age refuses them to keep the encoding non-malleable.
      const bytes = bodyLine.includes('\r') ? null : decodeBase64NoPad(bodyLine);
      if (bytes === null || bytes.length > BYTES_PER_LINE) fail('malformed stanza body line');
      body.push(bytes!);
      if (bytes!.length < BYTES_PER_LINE) break;
    }
    stanzas.push({ args: words.slice(1), body: Buffer.concat(body) });
  }
}

/** Decrypts the STREAM payload (64 KiB ChaCha20-Poly1305 chunks, last-chunk flag in the nonce). */
function decryptPayload(fileKey: Uint8Array, file: Buffer, offset: number): Buffer {
  if (file.length - offset < NONCE_SIZE) throw new AgeFileError('header', 'missing payload nonce');
  const nonce = file.subarray(offset, offset + NONCE_SIZE);
  const key = Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
  const fail = (what: string): never => {
    throw new AgeFileError('payload', what);
  };
  const out: Buffer[] = [];
  let pos = offset + NONCE_SIZE;
  if (pos === file.length) fail('no payload chunks');
  for (let counter = 0; pos < file.length; counter++) {
    const remaining = file.length - pos;
    const last = remaining <= CHUNK_SIZE + TAG_SIZE;
    const size = last ? remaining : CHUNK_SIZE + TAG_SIZE;
    if (size < TAG_SIZE) fail('short chunk');
    // The final chunk may be empty only when it is the only one.
    if (last && size === TAG_SIZE && counter > 0) fail('empty final chunk');
    const chunkNonce = Buffer.alloc(12);
    chunkNonce.writeUIntBE(counter, 5, 6);
    if (last) chunkNonce[11] = 1;
    const decipher = createDecipheriv('chacha20-poly1305', key, chunkNonce, { authTagLength: TAG_SIZE });
    decipher.setAuthTag(file.subarray(pos + size - TAG_SIZE, pos + size));
    const plain = decipher.update(file.subarray(pos, pos + size - TAG_SIZE));
    try {
      decipher.final();
    } catch {
      fail('chunk failed to authenticate');
    }
    out.push(plain);
    pos += size;
  }
  key.fill(0);
  return Buffer.concat(out);
}

/**
 * Decrypts a binary age file with X25519 identities. Returns the payload, or null when no identity
 * matches a stanza; throws {@link AgeFileError} when the file is malformed or fails authentication.
 */
export function decryptX25519(file: Buffer, identities: readonly X25519Identity[]): Buffer | null {
  const header = parseHeader(file);
  if (header.stanzas.some((s) => s.args[0] === 'scrypt') && header.stanzas.length !== 1) {
    throw new AgeFileError('header', 'an scrypt stanza must be alone in the header');
  }
  let fileKey: Uint8Array | null = null;
  for (const identity of identities) {
    try {
      fileKey = identity.unwrapFileKeySync(header.stanzas);
    } catch (err) {
      if (err instanceof MalformedStanzaError) throw new AgeFileError('header', err.message);
      throw err;
    }
    if (fileKey !== null) break;
  }
  if (fileKey === null) return null;
  const hmacKey = Buffer.from(hkdfSync('sha256', fileKey, Buffer.alloc(0), 'header', 32));
  const mac = createHmac('sha256', hmacKey).update(header.macInput).digest();
  hmacKey.fill(0);
  if (!timingSafeEqual(mac, header.mac)) throw new AgeFileError('hmac', 'header MAC does not match');
  try {
    return decryptPayload(fileKey, file, header.payloadOffset);
  } finally {
    fileKey.fill(0);
  }
}

/**
 * The launch fast path for a sops `enc` value: when every identity is an {@link X25519Identity},
 * dearmors and decrypts `enc` and returns the data key (null: no identity matched). Returns
 * `undefined` when some identity is of another kind, so the caller uses age-encryption instead.
 */
export function unwrapArmoredX25519(enc: string, identities: readonly unknown[]): Buffer | null | undefined {
  if (!identities.every((i): i is X25519Identity => i instanceof X25519Identity)) return undefined;
  return decryptX25519(dearmor(enc), identities);
}
