// Tests of Shamir split/combine over GF(2^8) with sops' share layout (y bytes, then x).
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { combineShares, splitSecret } from '../../src/sops/shamir.js';

describe('shamir', () => {
  it('any threshold-sized subset recovers the secret; shares are 33 bytes for a data key', () => {
    const secret = new Uint8Array(randomBytes(32));
    const shares = splitSecret(secret, 3, 2);
    expect(shares.map((s) => s.length)).toEqual([33, 33, 33]);
    expect(shares.map((s) => s[32])).toEqual([1, 2, 3]);
    for (const pair of [[0, 1], [0, 2], [1, 2], [0, 1, 2]]) {
      expect(combineShares(pair.map((i) => shares[i]!))).toEqual(secret);
    }
  });

  it('matches a hand-computed GF(2^8) example (0x11B)', () => {
    // f(x) = 0x42 + 0x53·x: shares at x=1 and x=2 are 0x42^0x53 and 0x42^mul(0x53,2)=0x42^0xA6.
    expect(combineShares([Uint8Array.of(0x42 ^ 0x53, 1), Uint8Array.of(0x42 ^ 0xa6, 2)])).toEqual(Uint8Array.of(0x42));
  });

  it('refuses too few, unequal or duplicate shares', () => {
    const shares = splitSecret(new Uint8Array(randomBytes(32)), 3, 2);
    expect(() => combineShares([shares[0]!])).toThrow(/less than two/);
    expect(() => combineShares([shares[0]!, shares[1]!.subarray(1)])).toThrow(/same length/);
    expect(() => combineShares([shares[0]!, shares[0]!])).toThrow(/duplicate/);
    expect(() => splitSecret(new Uint8Array(3), 2, 3)).toThrow();
  });

  it('round-trips (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 0, max: 4 }), (secret, t, extra) => {
        const shares = splitSecret(secret, t + extra, t);
        return Buffer.from(combineShares(shares.slice(extra))).equals(Buffer.from(secret));
      }),
    );
  });
});
