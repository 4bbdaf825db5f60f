// Shamir secret sharing over GF(2^8) as sops' fork of Vault's shamir package: share = y bytes then x.
import { randomBytes } from 'node:crypto';
import { WithSecretsError } from '../errors.js';

// Multiplication in GF(2^8) reduced by the AES polynomial x^8+x^4+x^3+x+1 (0x11B).
function mul(a: number, b: number): number {
  let r = 0;
  let x = a;
  let y = b;
  while (y > 0) {
    if (y & 1) r ^= x;
    x <<= 1;
    if (x & 0x100) x ^= 0x11b;
    y >>= 1;
  }
  return r;
}

function inverse(a: number): number {
  // a^254 = a^-1 in GF(2^8).
  let r = 1;
  let base = a;
  let e = 254;
  while (e > 0) {
    if (e & 1) r = mul(r, base);
    base = mul(base, base);
    e >>= 1;
  }
  return r;
}

function div(a: number, b: number): number {
  return mul(a, inverse(b));
}

/**
 * Splits a secret into `parts` shares of `secret.length + 1` bytes, any `threshold` of which
 * recover it. The x coordinates are 1..parts, as sops writes them since 2025.
 */
export function splitSecret(secret: Uint8Array, parts: number, threshold: number): Uint8Array[] {
  if (!Number.isInteger(parts) || !Number.isInteger(threshold) || parts < 2 || parts > 255 || threshold < 2 || threshold > parts) {
    throw new WithSecretsError('usage', `Shamir split needs 2 ≤ threshold (${threshold}) ≤ parts (${parts}) ≤ 255`);
  }
  if (secret.length === 0) throw new WithSecretsError('usage', 'cannot split an empty secret');
  const shares = Array.from({ length: parts }, (_, i) => {
    const share = new Uint8Array(secret.length + 1);
    share[secret.length] = i + 1;
    return share;
  });
  for (let b = 0; b < secret.length; b++) {
    const coeffs = new Uint8Array(randomBytes(threshold));
    coeffs[0] = secret[b]!;
    for (const share of shares) {
      const x = share[secret.length]!;
      // Horner's rule from the highest coefficient down.
      let y = 0;
      for (let k = threshold - 1; k >= 0; k--) y = mul(y, x) ^ coeffs[k]!;
      share[b] = y;
    }
  }
  return shares;
}

/**
 * Recovers the secret from shares by Lagrange interpolation at x = 0. Errors (`malformed`) as sops'
 * Combine: fewer than two shares, shares of different lengths, a repeated x coordinate.
 */
export function combineShares(shares: readonly Uint8Array[]): Uint8Array {
  if (shares.length < 2) throw new WithSecretsError('malformed', 'less than two Shamir shares cannot be used to reconstruct the data key');
  const len = shares[0]!.length;
  if (len < 2) throw new WithSecretsError('malformed', 'Shamir shares are too short');
  if (shares.some((s) => s.length !== len)) throw new WithSecretsError('malformed', 'Shamir shares are not all the same length');
  const xs = shares.map((s) => s[len - 1]!);
  if (new Set(xs).size !== xs.length) throw new WithSecretsError('malformed', 'duplicate Shamir share detected');
  const out = new Uint8Array(len - 1);
  for (let b = 0; b < len - 1; b++) {
    let acc = 0;
    for (let i = 0; i < shares.length; i++) {
      // Lagrange basis at 0: prod_{j≠i} x_j / (x_j - x_i); subtraction is XOR in GF(2^8).
      let basis = 1;
      for (let j = 0; j < shares.length; j++) {
        if (j === i) continue;
        basis = mul(basis, div(xs[j]!, xs[j]! ^ xs[i]!));
      }
      acc ^= mul(shares[i]![b]!, basis);
    }
    out[b] = acc;
  }
  return out;
}
