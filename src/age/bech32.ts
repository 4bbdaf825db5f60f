// Bech32 (BIP 173, without the 90-character limit, as age uses it) for age keys, on plain arrays.

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATORS[i]!;
  }
  return chk >>> 0;
}

function expandPrefix(prefix: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < prefix.length; i++) out.push(prefix.charCodeAt(i) >>> 5);
  out.push(0);
  for (let i = 0; i < prefix.length; i++) out.push(prefix.charCodeAt(i) & 31);
  return out;
}

/** Regroups bits (8→5 or 5→8); returns null for non-zero padding or leftover bits when not padding. */
function convertBits(data: ArrayLike<number>, from: number, to: number, pad: boolean): number[] | null {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const max = (1 << to) - 1;
  for (let i = 0; i < data.length; i++) {
    acc = (acc << from) | data[i]!;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >>> bits) & max);
    }
    acc &= (1 << bits) - 1;
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & max);
  } else if (bits >= from || acc !== 0) {
    return null;
  }
  return out;
}

/** A decoded bech32 string: the human-readable prefix (lower case) and the payload bytes. */
export interface Bech32Decoded {
  readonly prefix: string;
  readonly bytes: Uint8Array;
}

/**
 * Decodes a bech32 string (all upper or all lower case) and checks its checksum, or returns null.
 * Returns null rather than throwing so that no message can ever quote the input (a secret key).
 */
export function decodeBech32(s: string): Bech32Decoded | null {
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) return null;
  const lower = s.toLowerCase();
  const sep = lower.lastIndexOf('1');
  if (sep < 1 || sep + 7 > lower.length) return null;
  const prefix = lower.slice(0, sep);
  for (let i = 0; i < prefix.length; i++) {
    const c = prefix.charCodeAt(i);
    if (c < 33 || c > 126) return null;
  }
  const data: number[] = [];
  for (let i = sep + 1; i < lower.length; i++) {
    const v = CHARSET.indexOf(lower[i]!);
    if (v < 0) return null;
    data.push(v);
  }
  if (polymod([...expandPrefix(prefix), ...data]) !== 1) return null;
  const bytes = convertBits(data.slice(0, -6), 5, 8, false);
  return bytes === null ? null : { prefix, bytes: Uint8Array.from(bytes) };
}

/** Encodes `bytes` under `prefix` (lower case) as a bech32 string. */
export function encodeBech32(prefix: string, bytes: Uint8Array): string {
  const data = convertBits(bytes, 8, 5, true)!;
  const values = [...expandPrefix(prefix), ...data, 0, 0, 0, 0, 0, 0];
  const mod = polymod(values) ^ 1;
  const checksum: number[] = [];
  for (let i = 0; i < 6; i++) checksum.push((mod >>> (5 * (5 - i))) & 31);
  return `${prefix}1${[...data, ...checksum].map((v) => CHARSET[v]).join('')}`;
}
