// Tests of the sops value cipher: format, types, GCM with 32-byte IVs, Go number/time rules, malformed input.
import { createCipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WithSecretsError } from '../../src/errors.js';
import {
  canonicalTime,
  decryptValue,
  encryptValue,
  formatGoFloat,
  parseEncryptedValue,
  parseGoBool,
  parseGoFloat,
  parseGoInt,
  secondsTime,
  valueToBytes,
} from '../../src/sops/value-codec.js';

const key = new Uint8Array(randomBytes(32));
const CANARY = 'CANARY-7f3a9c-secret-value';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(WithSecretsError);
    return (e as WithSecretsError).code;
  }
}

describe('value codec', () => {
  it('round-trips every type with its AAD', () => {
    const leaves = [
      { type: 'str', value: 'hello wörld' },
      { type: 'int', value: '-42' },
      { type: 'float', value: 25.4 },
      { type: 'bool', value: true },
      { type: 'bool', value: false },
      { type: 'time', value: '2024-01-01T10:00:00.5+02:00' },
      { type: 'comment', value: ' a comment' },
    ] as const;
    for (const leaf of leaves) {
      const enc = encryptValue(leaf, key, 'a:b:');
      expect(enc).toMatch(new RegExp(`^ENC\\[AES256_GCM,data:[^,]+,iv:[^,]{44},tag:[^,]{24},type:${leaf.type}\\]$`));
      expect(decryptValue(enc, key, 'a:b:')).toEqual(leaf);
    }
  });

  it('writes bool as True/False and float without exponent, as sops', () => {
    expect(Buffer.from(valueToBytes({ type: 'bool', value: true })).toString()).toBe('True');
    expect(formatGoFloat(1e21)).toBe('1000000000000000000000');
    expect(formatGoFloat(1.5e-7)).toBe('0.00000015');
    expect(formatGoFloat(25.4)).toBe('25.4');
    expect(formatGoFloat(7)).toBe('7');
    expect(formatGoFloat(-0)).toBe('-0');
    expect(formatGoFloat(Infinity)).toBe('+Inf');
    expect(formatGoFloat(123456789012345680000)).toBe('123456789012345680000');
  });

  it('never encrypts an empty string and decrypts "" to ""', () => {
    expect(encryptValue({ type: 'str', value: '' }, key, 'a:')).toBe('');
    expect(encryptValue({ type: 'comment', value: '' }, key, 'a:')).toBe('');
    expect(decryptValue('', key, 'a:')).toEqual({ type: 'str', value: '' });
  });

  it('binds the value to its path (AAD)', () => {
    const enc = encryptValue({ type: 'str', value: CANARY }, key, 'a:b:');
    expect(codeOf(() => decryptValue(enc, key, 'a:c:'))).toBe('decrypt-failed');
    expect(codeOf(() => decryptValue(enc, new Uint8Array(randomBytes(32)), 'a:b:'))).toBe('decrypt-failed');
  });

  it('decrypts a value sealed independently with node:crypto (32-byte IV, tag apart)', () => {
    const iv = randomBytes(32);
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(Buffer.from('x:'));
    const data = Buffer.concat([c.update('007'), c.final()]);
    const text = `ENC[AES256_GCM,data:${data.toString('base64')},iv:${iv.toString('base64')},tag:${c.getAuthTag().toString('base64')},type:int]`;
    expect(decryptValue(text, key, 'x:')).toEqual({ type: 'int', value: '7' });
  });

  it('keeps bytes raw and refuses unknown types', () => {
    const enc = encryptValue({ type: 'str', value: 'raw' }, key, 'k:').replace('type:str', 'type:bytes');
    const out = decryptValue(enc, key, 'k:');
    expect(out.type).toBe('bytes');
    expect(Buffer.from((out as { value: Uint8Array }).value).toString()).toBe('raw');
    const bad = encryptValue({ type: 'str', value: 'x' }, key, 'k:').replace('type:str', 'type:blob');
    expect(codeOf(() => decryptValue(bad, key, 'k:'))).toBe('malformed');
  });

  it('refuses a plaintext that does not convert to its type, without quoting it', () => {
    const enc = encryptValue({ type: 'str', value: CANARY }, key, 'k:').replace('type:str', 'type:int');
    try {
      decryptValue(enc, key, 'k:');
      expect.unreachable();
    } catch (e) {
      expect((e as WithSecretsError).code).toBe('malformed');
      expect(String((e as Error).message)).not.toContain(CANARY);
    }
  });

  it('follows Go strconv', () => {
    expect(parseGoInt('+007')).toBe('7');
    expect(parseGoInt('9223372036854775807')).toBe('9223372036854775807');
    expect(parseGoInt('9223372036854775808')).toBeUndefined();
    expect(parseGoInt('1_000')).toBeUndefined();
    expect(parseGoInt(' 1')).toBeUndefined();
    expect(parseGoBool('T')).toBe(true);
    expect(parseGoBool('yes')).toBeUndefined();
    expect(parseGoFloat('1e3')).toBe(1000);
    expect(parseGoFloat('+Inf')).toBe(Infinity);
    expect(parseGoFloat('1e400')).toBeUndefined();
    expect(parseGoFloat('0x10')).toBeUndefined();
  });

  it('formats times as Go RFC3339Nano / RFC3339', () => {
    expect(canonicalTime('2024-01-01T00:00:00.500000000Z')).toBe('2024-01-01T00:00:00.5Z');
    expect(canonicalTime('2024-01-01T00:00:00+00:00')).toBe('2024-01-01T00:00:00Z');
    expect(canonicalTime('2024-02-30T00:00:00Z')).toBeUndefined();
    expect(secondsTime('2024-03-25T01:15:16.123456Z')).toBe('2024-03-25T01:15:16Z');
    expect(secondsTime('2024-03-25T01:15:16-07:00')).toBe('2024-03-25T01:15:16-07:00');
    expect(secondsTime('2024-03-25 01:15:16Z')).toBeUndefined();
  });

  it('reports which field of a malformed value is bad', () => {
    expect(codeOf(() => parseEncryptedValue('ENC[AES256_GCM,data:@@,iv:AA==,tag:AA==,type:str]'))).toBe('malformed');
    expect(codeOf(() => parseEncryptedValue('ENC[AES256_GCM,data:AA==]'))).toBe('malformed');
  });
});

describe('value codec on malformed input (property)', () => {
  const encLike = fc.oneof(
    fc.string(),
    fc.tuple(fc.string(), fc.string(), fc.string(), fc.string()).map(([d, i, t, ty]) => `ENC[AES256_GCM,data:${d},iv:${i},tag:${t},type:${ty}]`),
    fc.tuple(fc.base64String(), fc.base64String(), fc.base64String(), fc.constantFrom('str', 'int', 'float', 'bool', 'time', 'bytes', 'comment', 'x')).map(
      ([d, i, t, ty]) => `ENC[AES256_GCM,data:${d},iv:${i},tag:${t},type:${ty}]${CANARY}`,
    ),
    fc.string({ minLength: 5000, maxLength: 20000 }).map((s) => `ENC[AES256_GCM,data:${s}`),
  );

  it('fails with a typed error that never holds the input', () => {
    fc.assert(
      fc.property(encLike, fc.string(), (text, aad) => {
        try {
          decryptValue(text + CANARY, key, aad);
        } catch (e) {
          expect(e).toBeInstanceOf(WithSecretsError);
          expect(['malformed', 'decrypt-failed']).toContain((e as WithSecretsError).code);
          expect((e as Error).message).not.toContain(CANARY);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('truncations of a good value never decrypt to something else', () => {
    const good = encryptValue({ type: 'str', value: CANARY }, key, 'p:');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: good.length - 1 }), (n) => {
        try {
          const out = decryptValue(good.slice(0, n), key, 'p:');
          expect(out).toEqual({ type: 'str', value: '' });
        } catch (e) {
          expect(e).toBeInstanceOf(WithSecretsError);
          expect((e as Error).message).not.toContain(CANARY);
        }
      }),
    );
  });

  it('float formatting round-trips through Go parsing', () => {
    fc.assert(fc.property(fc.double({ noNaN: true }), (v) => Object.is(parseGoFloat(formatGoFloat(v)), v)));
  });
});
