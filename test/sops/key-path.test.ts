// Tests of key paths: dotted and sops extract syntax, lookup, and malformed input (property).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WithSecretsError } from '../../src/errors.js';
import { formatKeyPath, lookupPath, parseExtractPath, parseKeyPath } from '../../src/sops/key-path.js';
import { entry, map, str, type Node } from '../../src/sops/tree.js';

const CANARY = 'CANARY-4d2e-secret';
const list = (items: Node[]): Node => ({ type: 'list', items });
const doc = map([
  entry('openai', map([entry('api_key', str(CANARY))])),
  entry('a.b', str('dotted key')),
  entry('list', list([str('zero'), map([entry('x', str('one-x'))])])),
]);

describe('key paths', () => {
  it('parses dotted and extract syntax like sops', () => {
    expect(parseKeyPath('openai.api_key')).toEqual(['openai', 'api_key']);
    expect(parseKeyPath('["openai"]["api_key"]')).toEqual(['openai', 'api_key']);
    expect(parseKeyPath("['a.b']")).toEqual(['a.b']);
    expect(parseKeyPath('["list"][1]["x"]')).toEqual(['list', 1, 'x']);
    expect(parseExtractPath('["we[ir]d"]')).toEqual(['we[ir]d']);
  });

  it('round-trips through formatKeyPath', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ minLength: 0 }).filter((s) => !s.includes('"]') || !s.includes("']")), fc.nat({ max: 1e6 })), { minLength: 1, maxLength: 6 }), (path) => {
        expect(parseExtractPath(formatKeyPath(path))).toEqual(path);
      }),
    );
  });

  it('looks up values, list indices included', () => {
    expect(lookupPath(doc, ['openai', 'api_key'])).toEqual(str(CANARY));
    expect(lookupPath(doc, ['a.b'])).toEqual(str('dotted key'));
    expect(lookupPath(doc, ['list', 1, 'x'])).toEqual(str('one-x'));
    expect(lookupPath(doc, ['list', '0'])).toEqual(str('zero'));
  });

  it('names the missing path and the file, never a value', () => {
    for (const path of [['openai', 'nope'], ['nope'], ['openai', 'api_key', 'deeper'], ['list', 5]]) {
      try {
        lookupPath(doc, path, 'secrets.yaml');
        expect.unreachable();
      } catch (e) {
        expect((e as WithSecretsError).code).toBe('key-not-found');
        expect((e as Error).message).toMatch(/^secrets\.yaml: /);
        expect((e as Error).message).not.toContain(CANARY);
      }
    }
  });

  it('refuses malformed paths with a typed error (property)', () => {
    const junk = fc.oneof(
      fc.string(),
      fc.string({ minLength: 4000, maxLength: 9000 }),
      fc.array(fc.constantFrom('[', ']', '"', "'", '.', '0', 'a', '9', ' '), { maxLength: 40 }).map((a) => a.join('')),
      fc.nat().map((n) => '['.repeat(n % 5000)),
    );
    fc.assert(
      fc.property(junk, (text) => {
        try {
          const path = parseKeyPath(text + CANARY);
          expect(path.length).toBeGreaterThan(0);
          try {
            lookupPath(doc, path);
          } catch (e) {
            expect((e as WithSecretsError).code).toBe('key-not-found');
          }
        } catch (e) {
          expect(e).toBeInstanceOf(WithSecretsError);
          expect((e as WithSecretsError).code).toBe('usage');
          expect((e as Error).message).not.toContain(CANARY);
        }
      }),
      { numRuns: 500 },
    );
  });
});
