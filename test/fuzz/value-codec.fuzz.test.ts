// Fuzz: the sops value codec (ENC[AES256_GCM,…] parsing, decryption of damaged values, Go scalar parsers) and the ReDoS regression.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalTime, decryptValue, encryptValue, parseEncryptedValue, parseGoBool, parseGoFloat, parseGoInt, type CipherLeaf } from '../../src/sops/value-codec.js';
import { budget, CANARY, fuzz, runs } from './fuzz-harness.js';
import { applyMutation, mutationArb, tokenText } from './mutate.js';

const KEY = new Uint8Array(randomBytes(32));
const AAD = 'openai:api_key:';

/** sops' own pattern, the reference on inputs short enough for a backtracking engine. */
const REFERENCE = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/;

/** Well-formed values whose fields hold the delimiters themselves: where a greedy match must split. */
const b64ish = fc.constantFrom('AA==', 'AAAA', 'QUJD', ',iv:AA==', 'AA==,tag:AA==', 'AA==,type:str]', '', 'A', 'AA==]');
const encFields = fc
  .tuple(b64ish, b64ish, b64ish, fc.constantFrom('str', 'int', 'str]x', 'bytes,type:str', '', ']'), fc.constantFrom(']', ']]', '', ']\n]'))
  .map(([d, iv, tag, type, end]) => `ENC[AES256_GCM,data:${d},iv:${iv},tag:${tag},type:${type}${end}`);
const encPieces = fc
  .array(fc.constantFrom(',iv:', ',tag:', ',type:', ']', 'A', 'AA==', 'str', '\n', '\r', ',', ':', 'x'), { maxLength: 14 })
  .map((p) => `ENC[AES256_GCM,data:${p.join('')}`);

describe('value codec (fuzz)', () => {
  const n1 = runs(2_000, 200_000);
  it('parseEncryptedValue agrees with sops’ pattern (greedy groups) on every short input', { timeout: budget(n1) }, async () => {
    await fuzz({
      name: 'value-codec/parse-vs-reference',
      arb: fc.oneof({ weight: 3, arbitrary: encFields }, encPieces, tokenText),
      numRuns: n1,
      allowed: ['malformed'],
      run: (text) => {
        const m = REFERENCE.exec(text);
        let ours: ReturnType<typeof parseEncryptedValue> | undefined;
        try {
          ours = parseEncryptedValue(text);
        } catch (e) {
          // Either the pattern does not match, or a field is not base64: both are malformed, as in sops.
          if (m !== null) {
            const b64 = (s: string) => s.replace(/[\r\n]/g, '').length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s.replace(/[\r\n]/g, ''));
            expect(b64(m[1]!) && b64(m[2]!) && b64(m[3]!)).toBe(false);
          }
          throw e;
        }
        expect(m).not.toBeNull();
        expect(ours.type).toBe(m![4]);
        expect(Buffer.from(ours.data).toString('base64')).toBe(Buffer.from(m![1]!, 'base64').toString('base64'));
        expect(Buffer.from(ours.iv).toString('base64')).toBe(Buffer.from(m![2]!, 'base64').toString('base64'));
        return ours;
      },
    });
  });

  it('a crafted 300 KB value is refused at once (was a ReDoS: hours of backtracking)', async () => {
    // 250 repeats (4 KB) took about 10 s with the old RegExp: over the hang guard, but finite, so this fails rather than stalls.
    await fuzz({ name: 'value-codec/redos-4k', arb: fc.constant(250), numRuns: 1, allowed: ['malformed'], run: (n) => parseEncryptedValue(`ENC[AES256_GCM,data:${',iv:,tag:,type:'.repeat(n)}`) });
    await fuzz({
      name: 'value-codec/redos',
      arb: fc.record({ n: fc.integer({ min: 1_000, max: 20_000 }), tail: fc.constantFrom('', 'x', ']', ',iv:') }),
      numRuns: 10,
      allowed: ['malformed'],
      run: ({ n, tail }) => parseEncryptedValue(`ENC[AES256_GCM,data:${',iv:,tag:,type:'.repeat(n)}${tail}`),
    });
  });

  const leafArb: fc.Arbitrary<CipherLeaf> = fc.oneof(
    fc.string({ unit: 'grapheme' }).map((value) => ({ type: 'str', value: CANARY + value }) as CipherLeaf),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => ({ type: 'int', value: v.toString() }) as CipherLeaf),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => ({ type: 'float', value }) as CipherLeaf),
    fc.boolean().map((value) => ({ type: 'bool', value }) as CipherLeaf),
    fc.string().map((value) => ({ type: 'comment', value: CANARY + value }) as CipherLeaf),
  );

  const n2 = runs(1_500, 100_000);
  it('a damaged encrypted value decrypts to the original or fails typed, never quoting the plaintext', { timeout: budget(n2) }, async () => {
    await fuzz({
      name: 'value-codec/damaged-ciphertext',
      arb: fc.tuple(leafArb, fc.array(mutationArb.filter((m) => m.op !== 'huge' && m.op !== 'nest'), { minLength: 0, maxLength: 2 })),
      numRuns: n2,
      secrets: [CANARY],
      allowed: ['malformed', 'decrypt-failed'],
      run: ([leaf, ms]) => {
        const enc = encryptValue(leaf, KEY, AAD);
        const damaged = ms.reduce<Buffer>((b, m) => applyMutation(b, m), Buffer.from(enc)).toString('utf8');
        return { leaf, out: decryptValue(damaged, KEY, AAD), same: damaged === enc, empty: damaged === '' };
      },
      check: ({ leaf, out, same, empty }) => {
        // An empty value is sops' unencrypted empty string.
        if (empty) return expect(out).toEqual({ type: 'str', value: '' });
        // Authenticated encryption: anything that still decrypts carries the original plaintext.
        if (leaf.type === 'float') expect(out).toEqual({ type: 'float', value: Number(leaf.value) === 0 ? out.value : leaf.value });
        else if (same) expect(out).toEqual(leaf);
        else expect(out.value).toEqual(leaf.value);
      },
    });
  });

  const n3 = runs(2_000, 200_000);
  it('Go scalar parsers never throw on any text', { timeout: budget(n3) }, async () => {
    await fuzz({
      name: 'value-codec/go-scalars',
      arb: fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.stringMatching(/^[-+]?[0-9_.eExXoObBpP+\-:TZ]{0,30}$/), tokenText),
      numRuns: n3,
      allowed: [],
      run: (t) => [parseGoInt(t), parseGoBool(t), parseGoFloat(t), canonicalTime(t)],
    });
  });
});
