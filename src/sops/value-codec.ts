// The sops value cipher: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` strings and the typed leaves they hold.
import { isUtf8 } from 'node:buffer';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { WithSecretsError } from '../errors.js';
import type { Comment, Scalar } from './tree.js';

/** A parsed `ENC[…]` value; `type` is the raw `type:` text (checked only when decrypting). */
export interface EncryptedValue {
  readonly data: Uint8Array;
  readonly iv: Uint8Array;
  readonly tag: Uint8Array;
  readonly type: string;
}

/** A leaf the cipher can carry: a typed scalar (not null) or a comment. */
export type CipherLeaf = Exclude<Scalar, { type: 'null' }> | Comment;

/** sops' IV length (`aes/cipher.go`: `NewGCMWithNonceSize(32)`); decryption uses whatever length the file has. */
export const IV_SIZE = 32;
const TAG_SIZE = 16;

// The same pattern sops uses: anchored at the start only, greedy groups (aes/cipher.go `encre`):
// ^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]  (`.` stops at a line end).
// Matched by hand: as a backtracking RegExp it took seconds on a 5 KB value and hours on 15 KB.
const ENC_DATA_PREFIX = 'ENC[AES256_GCM,data:';

/** The four groups of sops' pattern, as a greedy backtracking match would give them, in linear time. */
function matchEncPattern(text: string): [string, string, string, string] | null {
  if (!text.startsWith(ENC_DATA_PREFIX)) return null;
  const nl = text.search(/[\n\r\u2028\u2029]/);
  const line = nl < 0 ? text : text.slice(0, nl);
  // Each greedy group ends at the last delimiter that still leaves room (one character or more) for the rest.
  const end = line.lastIndexOf(']');
  const type = end < 0 ? -1 : line.lastIndexOf(',type:', end - 7);
  const tag = type < 0 ? -1 : line.lastIndexOf(',tag:', type - 6);
  const iv = tag < 0 ? -1 : line.lastIndexOf(',iv:', tag - 5);
  if (iv < ENC_DATA_PREFIX.length + 1) return null;
  return [line.slice(ENC_DATA_PREFIX.length, iv), line.slice(iv + 4, tag), line.slice(tag + 5, type), line.slice(type + 6, end)];
}
const ENC_PREFIX = 'ENC[AES256_GCM,';

/** True when the text looks like an encrypted sops value (starts with `ENC[AES256_GCM,`). */
export function looksEncrypted(text: string): boolean {
  return text.startsWith(ENC_PREFIX);
}

/**
 * Decodes standard padded base64 as Go's `base64.StdEncoding` does (CR/LF ignored, padding required).
 * Returns undefined for anything else, so callers can report which field was bad.
 */
function decodeBase64(text: string): Uint8Array | undefined {
  // Most values have no line breaks: skip the copy (a launch decodes every value of the file for the MAC).
  const s = text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]/g, '') : text;
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  return Buffer.from(s, 'base64');
}

function decodeField(b64: string, name: string): Uint8Array {
  const bytes = decodeBase64(b64);
  if (bytes === undefined) throw new WithSecretsError('malformed', `encrypted value has invalid base64 in its ${name} field`);
  return bytes;
}

/**
 * Parses an `ENC[AES256_GCM,…]` string. Throws `malformed` naming the bad field; the message never
 * quotes the input (sops' own message does, which could print a plaintext that was never encrypted).
 */
export function parseEncryptedValue(text: string): EncryptedValue {
  const m = matchEncPattern(text);
  if (m === null) throw new WithSecretsError('malformed', 'value does not match the sops data format ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]');
  return { data: decodeField(m[0], 'data'), iv: decodeField(m[1], 'iv'), tag: decodeField(m[2], 'tag'), type: m[3] };
}

/** Formats an encrypted value as sops writes it. */
export function formatEncryptedValue(v: EncryptedValue): string {
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
  return `ENC[AES256_GCM,data:${b64(v.data)},iv:${b64(v.iv)},tag:${b64(v.tag)},type:${v.type}]`;
}

function checkKey(key: Uint8Array): void {
  if (key.length !== 32) throw new WithSecretsError('internal', `data key has ${key.length} bytes, expected 32`);
}

/**
 * AES-256-GCM open. Like Go, the stored data and tag are concatenated and the last 16 bytes are the
 * tag, so a file is accepted or refused exactly as sops would.
 */
function openGcm(key: Uint8Array, v: EncryptedValue, aad: string): Buffer {
  const sealed = Buffer.concat([v.data, v.tag]);
  if (v.iv.length === 0 || sealed.length < TAG_SIZE) {
    throw new WithSecretsError('decrypt-failed', 'value does not authenticate (AES-GCM)');
  }
  try {
    const d = createDecipheriv('aes-256-gcm', key, v.iv);
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
    const out = Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_SIZE)), d.final()]);
    return out;
  } catch (cause) {
    throw new WithSecretsError('decrypt-failed', 'value does not authenticate (AES-GCM)', { cause });
  }
}

function sealGcm(key: Uint8Array, plain: Uint8Array, aad: string, iv: Uint8Array): { data: Uint8Array; tag: Uint8Array } {
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([c.update(plain), c.final()]);
  return { data: new Uint8Array(data), tag: new Uint8Array(c.getAuthTag()) };
}

/** The value types sops writes. */
const VALUE_TYPES: ReadonlySet<string> = new Set(['str', 'int', 'float', 'bool', 'time', 'bytes', 'comment']);

const bad = (what: string): WithSecretsError => new WithSecretsError('malformed', `decrypted value is not a valid ${what}`);

/**
 * Decrypts one `ENC[…]` string with the data key and additional data (the tree path, `a:b:`).
 * `""` decrypts to `""` as in sops. Errors: `malformed` (format, type, or a plaintext that does not
 * convert to its type) and `decrypt-failed` (authentication); messages never hold the value.
 */
export function decryptValue(text: string, key: Uint8Array, aad: string): CipherLeaf {
  if (text === '') return { type: 'str', value: '' };
  checkKey(key);
  const v = parseEncryptedValue(text);
  if (!VALUE_TYPES.has(v.type)) {
    throw new WithSecretsError('malformed', 'encrypted value has an unknown type (expected str, int, float, bool, time, bytes or comment)');
  }
  const plain = openGcm(key, v, aad);
  const textValue = plain.toString('utf8');
  switch (v.type) {
    case 'str':
      // A Go string is bytes: sops stores a binary file's content (an image, a keystore) as a str. Kept as
      // bytes unless it is UTF-8, so the MAC and a rewrite see exactly what was encrypted.
      return isUtf8(plain) ? { type: 'str', value: textValue } : { type: 'bytes', value: plain };
    case 'int': {
      const n = parseGoInt(textValue);
      if (n === undefined) throw bad('int');
      return { type: 'int', value: n };
    }
    case 'float': {
      const f = parseGoFloat(textValue);
      if (f === undefined) throw bad('float');
      return { type: 'float', value: f };
    }
    case 'bool': {
      const b = parseGoBool(textValue);
      if (b === undefined) throw bad('bool');
      return { type: 'bool', value: b };
    }
    case 'time': {
      const t = canonicalTime(textValue);
      if (t === undefined) throw bad('time (RFC 3339)');
      return { type: 'time', value: t };
    }
    case 'bytes':
      return { type: 'bytes', value: plain };
    default:
      return { type: 'comment', value: textValue };
  }
}

/**
 * Encrypts a leaf as sops does (str/int/float/bool/time/comment; bytes as `str`). Empty strings and
 * empty comments are never encrypted and come back as `""`. `iv` lets a writer keep an old IV for an
 * unchanged value, as sops' cipher stash does; by default it is 32 fresh random bytes.
 */
export function encryptValue(leaf: CipherLeaf, key: Uint8Array, aad: string, iv?: Uint8Array): string {
  const [type, text] = plaintextOf(leaf);
  if (text.length === 0) return '';
  checkKey(key);
  const nonce = iv ?? new Uint8Array(randomBytes(IV_SIZE));
  const { data, tag } = sealGcm(key, text, aad, nonce);
  return formatEncryptedValue({ data, iv: nonce, tag, type });
}

function plaintextOf(leaf: CipherLeaf): [string, Uint8Array] {
  const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
  switch (leaf.type) {
    case 'comment':
      return ['comment', utf8(leaf.value)];
    case 'bytes':
      // sops' walk turns []byte into a string before the cipher sees it.
      return ['str', leaf.value];
    default:
      return [leaf.type, valueToBytes(leaf)];
  }
}

/**
 * sops' `ToBytes`: the bytes a leaf contributes to the MAC (and its plaintext when encrypted):
 * int in decimal, float without exponent, bool as `True`/`False`, time as RFC3339Nano, bytes raw.
 */
export function valueToBytes(leaf: Exclude<Scalar, { type: 'null' }>): Uint8Array {
  switch (leaf.type) {
    case 'str':
      return new Uint8Array(Buffer.from(leaf.value, 'utf8'));
    case 'int':
      return new Uint8Array(Buffer.from(parseGoInt(leaf.value) ?? leaf.value, 'utf8'));
    case 'float':
      return new Uint8Array(Buffer.from(formatGoFloat(leaf.value), 'utf8'));
    case 'bool':
      return new Uint8Array(Buffer.from(leaf.value ? 'True' : 'False', 'utf8'));
    case 'time':
      return new Uint8Array(Buffer.from(canonicalTime(leaf.value) ?? leaf.value, 'utf8'));
    case 'bytes':
      return leaf.value;
  }
}

/**
 * Go's `strconv.Atoi` on a 64-bit platform, returning the canonical decimal text (`+007` → `7`),
 * or undefined when Go would fail (not decimal, or outside int64).
 */
export function parseGoInt(text: string): string | undefined {
  if (!/^[+-]?[0-9]+$/.test(text) || text.length > 40) return undefined;
  const n = BigInt(text);
  if (n < -(2n ** 63n) || n > 2n ** 63n - 1n) return undefined;
  return n.toString();
}

/** Go's `strconv.ParseBool`. */
export function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

/**
 * Go's `strconv.ParseFloat(s, 64)` for decimal input, infinities and NaN (hexadecimal floats and
 * underscores are refused); a finite literal that overflows is refused as Go refuses it.
 */
export function parseGoFloat(text: string): number | undefined {
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(text);
  if (special) {
    if (special[2]!.toLowerCase() === 'nan') return special[1] === '' ? NaN : undefined;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (text.length > 1000 || !/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest digits that round-trip, never an exponent. */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Object.is(v, -0)) return '-0';
  const s = v.toString();
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m === null) return s;
  const [, sign, int, frac = '', expText] = m;
  const digits = int! + frac;
  const point = int!.length + Number(expText);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,64}))?(Z|[+-]\d{2}:\d{2})$/;

/** The parts of an RFC 3339 time, validated; undefined when it is not one Go's `time.Parse(RFC3339)` accepts. */
function parseRfc3339(text: string): { date: string; clock: string; frac: string; zone: string } | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac = '', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (days === undefined || day < 1 || day > days) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  let z = zone!;
  if (z !== 'Z') {
    const oh = Number(z.slice(1, 3));
    const om = Number(z.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    if (oh === 0 && om === 0) z = 'Z';
  }
  return { date: `${y}-${mo}-${d}`, clock: `${h}:${mi}:${s}`, frac, zone: z };
}

/**
 * Re-formats an RFC 3339 time as Go's `time.Format(RFC3339Nano)` would after parsing it: trailing
 * fraction zeros dropped, a zero offset written `Z`. Undefined when the text is not RFC 3339.
 */
export function canonicalTime(text: string): string | undefined {
  const p = parseRfc3339(text);
  if (p === undefined) return undefined;
  // Go keeps nanoseconds: digits past the ninth are dropped.
  const frac = p.frac.slice(0, 9).replace(/0+$/, '');
  return `${p.date}T${p.clock}${frac ? '.' + frac : ''}${p.zone}`;
}

/** The same time formatted as Go's `time.Format(RFC3339)`: no fraction at all. Undefined when not RFC 3339. */
export function secondsTime(text: string): string | undefined {
  const p = parseRfc3339(text);
  return p === undefined ? undefined : `${p.date}T${p.clock}${p.zone}`;
}
