// Hostile and broken input for every store: a typed `malformed` error (or a clean load), never a crash, a hang, or a value in the message.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWithSecretsError } from '../../../src/errors.js';
import { loadStore } from '../../../src/sops/stores/index.js';
import type { StoreFormat } from '../../../src/sops/tree.js';

const CANARY = 'CANARY-SECRET-VALUE-91c2e';

const VALID: Record<StoreFormat, string> = {
  yaml: `# head\ntoken: ${CANARY} # inline\nnested:\n    list:\n        - ${CANARY}\n        - k: "${CANARY}"\n          lit: |\n            ${CANARY}\n    n: 1\n---\nsecond: '${CANARY}'\nsops:\n    version: 3.9.0\n`,
  json: `{\n\t"token": "${CANARY}",\n\t"nested": {"list": ["${CANARY}", 1.5, true, null, {"k": "${CANARY}"}]},\n\t"sops": {"version": "3.9.0"}\n}\n`,
  dotenv: `# head\nTOKEN=${CANARY}\nOTHER=${CANARY}\\n${CANARY}\nsops_version=3.9.0\nsops_age__list_0__map_enc=${CANARY}\n`,
  ini: `; head\nk0 = ${CANARY}\n[section]\ntoken = ${CANARY} ; c\nmulti = """${CANARY}\n${CANARY}"""\n[sops]\nversion = 3.9.0\nage__list_0__map_enc = ${CANARY}\\n\n`,
  binary: `{\n\t"data": "${CANARY}",\n\t"sops": {"version": "3.9.0"}\n}\n`,
};

async function check(format: StoreFormat, text: string): Promise<void> {
  try {
    await loadStore(format, text, `input.${format}`);
  } catch (e) {
    expect(isWithSecretsError(e, 'malformed'), `${format}: ${String(e)} for ${JSON.stringify(text.slice(0, 200))}`).toBe(true);
    const message = (e as Error).message;
    expect(message.startsWith(`input.${format}: `)).toBe(true);
    expect(message).not.toContain(CANARY);
    expect(message).not.toContain(CANARY.slice(0, 12));
  }
}

const FORMATS: StoreFormat[] = ['yaml', 'json', 'dotenv', 'ini', 'binary'];
const junk = fc.constantFrom('', ' ', '\n', ':', '- ', '#', '"', "'", '{', '[', ']', '}', ',', '=', '\\', '|', '&a ', '*a', '!!int ', '---\n', '\t', '\r', '\u0000', '"""', '`', 'ENC[', '\ud800');

describe('malformed input', () => {
  for (const format of FORMATS) {
    it(`${format}: the valid sample loads`, async () => {
      await expect(loadStore(format, VALID[format], `input.${format}`)).resolves.toBeDefined();
    });

    it(`${format}: truncated at every point`, async () => {
      const text = VALID[format];
      for (let i = 0; i < text.length; i++) await check(format, text.slice(0, i));
    });

    it(`${format}: random edits (property)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.nat(VALID[format].length), fc.nat(4), junk), { minLength: 1, maxLength: 4 }), async (edits) => {
          let text = VALID[format];
          for (const [at, del, ins] of edits) {
            const p = Math.min(at, text.length);
            text = text.slice(0, p) + ins + text.slice(p + del);
          }
          await check(format, text);
        }),
        { numRuns: 250 },
      );
    });

    it(`${format}: arbitrary text (property)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.string({ maxLength: 200, unit: 'binary' }), async (text) => {
          await check(format, text);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('deep nesting is refused, not a stack overflow', async () => {
    const depth = 20_000;
    await check('json', '{"a":' + '['.repeat(depth) + ']'.repeat(depth) + '}');
    await expect(loadStore('json', '{"a":' + '['.repeat(depth) + ']'.repeat(depth) + '}', 'x.json')).rejects.toThrow(/nesting deeper/);
    await check('yaml', 'a: ' + '['.repeat(depth) + ']'.repeat(depth) + '\n');
    await expect(loadStore('yaml', 'a: ' + '['.repeat(depth) + ']'.repeat(depth) + '\n', 'x.yaml')).rejects.toThrow(/malformed|nesting|invalid YAML/);
    let block = '';
    for (let i = 0; i < 1500; i++) block += `${' '.repeat(i)}k${i}:\n`;
    await expect(loadStore('yaml', block + ' '.repeat(1500) + 'v: 1\n', 'x.yaml')).rejects.toThrow(/nesting deeper/);
  });

  it('an alias bomb is refused', async () => {
    let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 10; i++) text += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
    await expect(loadStore('yaml', text, 'bomb.yaml')).rejects.toThrow(/excessive aliasing/);
  });

  it('a recursive alias is refused', async () => {
    await check('yaml', 'a: &x\n  b: *x\n');
    await expect(loadStore('yaml', 'a: &x\n  b: *x\n', 'r.yaml')).rejects.toThrow(/input\.yaml|r\.yaml/);
  });

  it('huge values load', async () => {
    const big = 'v'.repeat(5_000_000);
    const y = await loadStore('yaml', `k: ${big}\n`, 'big.yaml');
    expect(y.branches[0]!.items[0]).toEqual({ type: 'entry', key: 'k', value: { type: 'str', value: big } });
    const j = await loadStore('json', `{"k": "${big}"}`, 'big.json');
    expect(j.branches[0]!.items).toHaveLength(1);
    const d = await loadStore('dotenv', `K=${big}\n`, 'big.env');
    expect(d.branches[0]!.items).toHaveLength(1);
  });

  it('a YAML syntax error gives line and column, not the text the yaml package quotes', async () => {
    const err = await loadStore('yaml', `a: 1\nb: "${CANARY}\n  c: [`, 'q.yaml').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/^q\.yaml: line \d+, column \d+: invalid YAML/);
    expect(err?.message).not.toContain(CANARY);
    expect(err?.cause).toBeInstanceOf(Error);
  });
});
