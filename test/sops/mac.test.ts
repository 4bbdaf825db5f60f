// Tests of the sops MAC: which leaves count, the mac_only_encrypted prefix, and the three failure checks.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WithSecretsError } from '../../src/errors.js';
import { compileRules } from '../../src/sops/encryption-rules.js';
import { computeMac, encryptMac, MAC_ONLY_ENCRYPTED_INIT, macAad, verifyMac } from '../../src/sops/mac.js';
import { entry, map, str, type MapNode } from '../../src/sops/tree.js';

const key = new Uint8Array(randomBytes(32));
const tree: MapNode = map([
  { type: 'comment', value: ' not hashed' },
  entry('a', str('x')),
  entry('n', { type: 'null' }),
  entry('e', str('')),
  entry('i', { type: 'int', value: '007' }),
  entry('f', { type: 'float', value: 1e21 }),
  entry('b', { type: 'bool', value: true }),
  entry('t_unencrypted', { type: 'time', value: '2024-01-01T00:00:00.000Z' }),
]);

describe('mac', () => {
  it('hashes ToBytes of non-comment non-null leaves in walk order, uppercase hex', () => {
    const expected = createHash('sha512').update('x' + '' + '7' + '1000000000000000000000' + 'True' + '2024-01-01T00:00:00Z').digest('hex').toUpperCase();
    expect(computeMac([tree], compileRules({}, 'f'), false)).toBe(expected);
  });

  it('with mac_only_encrypted hashes SHA-256("sops") first and only encrypted leaves', () => {
    expect(Buffer.from(MAC_ONLY_ENCRYPTED_INIT).toString('hex')).toMatch(/^8a3fd2ad.*f27d69$/);
    const expected = createHash('sha512').update(MAC_ONLY_ENCRYPTED_INIT).update('x' + '7' + '1000000000000000000000' + 'True').digest('hex').toUpperCase();
    expect(computeMac([tree], compileRules({}, 'f'), true)).toBe(expected);
  });

  it('uses lastmodified without fractions as the MAC AAD', () => {
    expect(macAad('2024-03-25T01:15:16.5Z', 'f')).toBe('2024-03-25T01:15:16Z');
    expect(() => macAad('yesterday', 'f')).toThrow(WithSecretsError);
  });

  it('says which check failed', () => {
    const mac = computeMac([tree], compileRules({}, 'f'), false);
    const lm = '2024-03-25T01:15:16Z';
    const stored = encryptMac(mac, key, lm, 'f');
    expect(() => verifyMac(stored, mac, key, lm, 'f')).not.toThrow();
    const check = (fn: () => void, text: RegExp) => {
      try {
        fn();
        expect.unreachable();
      } catch (e) {
        expect((e as WithSecretsError).code).toBe('mac-mismatch');
        expect((e as Error).message).toMatch(text);
        expect((e as Error).message).not.toContain(mac);
      }
    };
    check(() => verifyMac('', mac, key, lm, 'f'), /has no MAC/);
    check(() => verifyMac(stored, mac, key, '2024-03-25T01:15:17Z', 'f'), /does not decrypt/);
    check(() => verifyMac(stored, mac.replace(/^./, '0'), key, lm, 'f'), /differs/);
  });
});
