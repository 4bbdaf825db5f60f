// Tests of branch encryption/decryption with hand-built trees: round trip, MAC agreement, tampering, typed leaves.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WithSecretsError } from '../../src/errors.js';
import { decryptBranches } from '../../src/sops/decrypt.js';
import { encryptBranches } from '../../src/sops/encrypt.js';
import { compileRules } from '../../src/sops/encryption-rules.js';
import { computeMac } from '../../src/sops/mac.js';
import { entry, map, str, type MapNode, type Node } from '../../src/sops/tree.js';

const key = new Uint8Array(randomBytes(32));
const CANARY = 'CANARY-91ab-do-not-print';
const list = (items: Node[]): Node => ({ type: 'list', items });
const plain: MapNode = map([
  { type: 'comment', value: ' header' },
  entry('token', str(CANARY)),
  entry('port', { type: 'int', value: '8080' }),
  entry('ratio', { type: 'float', value: 0.25 }),
  entry('on', { type: 'bool', value: false }),
  entry('when', { type: 'time', value: '2024-05-06T07:08:09.123Z' }),
  entry('note_unencrypted', str('visible')),
  entry('empty', str('')),
  entry('nothing', { type: 'null' }),
  entry('nested', map([entry('l', list([str('a'), map([entry('b', str('c'))])]))])),
]);
const rules = compileRules({}, 'f.yaml');

describe('encrypt/decrypt branches', () => {
  it('round-trips every type and agrees on the MAC', () => {
    const enc = encryptBranches([plain], key, rules, false);
    expect(JSON.stringify(enc.branches)).not.toContain(CANARY);
    expect(JSON.stringify(enc.branches)).toContain('visible');
    const dec = decryptBranches(enc.branches, key, rules, false, 'f.yaml');
    expect(dec.branches[0]).toEqual(plain);
    expect(dec.mac).toBe(enc.mac);
    expect(dec.mac).toBe(computeMac([plain], rules, false));
  });

  it('fails with decrypt-failed naming file and tree path when a value is moved or changed', () => {
    const enc = encryptBranches([plain], key, rules, false).branches[0]!;
    // Swap the ciphertexts of token and port: both authenticate only under their own path.
    const items = enc.items.map((i) => (i.type === 'entry' && i.key === 'token' ? { ...i, key: 'tokem' } : i));
    try {
      decryptBranches([{ ...enc, items }], key, rules, false, 'f.yaml');
      expect.unreachable();
    } catch (e) {
      expect((e as WithSecretsError).code).toBe('decrypt-failed');
      expect((e as Error).message).toContain('f.yaml: tokem');
      expect((e as Error).message).not.toContain(CANARY);
    }
  });

  it('refuses an encrypted leaf that is not a string as malformed', () => {
    const bad = map([entry('n', { type: 'int', value: '3' })]);
    try {
      decryptBranches([bad], key, rules, false, 'f.yaml');
      expect.unreachable();
    } catch (e) {
      expect((e as WithSecretsError).code).toBe('malformed');
      expect((e as Error).message).toContain('f.yaml: n');
    }
  });

  it('keeps a comment that does not decrypt, as sops', () => {
    const dec = decryptBranches([map([{ type: 'comment', value: ' plain old comment' }])], key, rules, false, 'f');
    expect(dec.branches[0]!.items[0]).toEqual({ type: 'comment', value: ' plain old comment' });
  });
});
