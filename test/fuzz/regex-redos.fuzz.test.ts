// Fuzz and regression: Go regular expressions from .sops.yaml and from a sops file's metadata never make a match hang (ReDoS).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WithSecretsError } from '../../src/errors.js';
import { compileGoRegex } from '../../src/sops/encryption-rules.js';
import { budget, fuzz, runs } from './fuzz-harness.js';

/** Inputs that make backtracking engines explode on ambiguous patterns. */
const ADVERSARIAL = ['a'.repeat(40) + '!', 'ab'.repeat(30) + '!', ' '.repeat(40) + 'x', '0'.repeat(40) + '-'];

describe('regular expressions from files (ReDoS)', () => {
  it('exponential shapes are refused as malformed (found by the creation-rules fuzz: ^(a|a)*$ hung for hours)', () => {
    for (const src of ['^(a|a)*$', '(a|ab)+$', '(?:x|xy)*z', '((a|b)c|a)*$', '(([ab]|a))+$', '(a?a?)+$', '(a+)+$', '(a*)*b', '(\\w+\\s?)*$', '.((\\s){1,3})*[ab]!', '(ab?)+$', '(a+){1,}$', '(a|b){0,}c']) {
      expect(() => compileGoRegex(src, 'rule'), src).toThrow(WithSecretsError);
    }
  });

  it('the common rule shapes still compile and match as before', () => {
    const cases: Array<[string, string, boolean]> = [
      ['^(data|stringData)$', 'stringData', true],
      ['^(password|token).*', 'token_x', true],
      ['(foo|bar)?x', 'barx', true],
      ['[a|b]*c', '|c', true],
      ['_unencrypted$', 'x_unencrypted', true],
      ['^(a|b)?$', 'c', false],
    ];
    for (const [src, input, want] of cases) expect(compileGoRegex(src, 'rule').test(input), src).toBe(want);
  });

  const atom = fc.constantFrom('a', 'b', '.', '\\w', '\\s', '[ab]', '\\d', 'x');
  const { re } = fc.letrec<{ re: string; seq: string; alt: string; rep: string }>((tie) => ({
    re: fc.oneof({ depthSize: 'small' }, atom, tie('seq'), tie('alt'), tie('rep')),
    seq: fc.array(tie('re'), { minLength: 1, maxLength: 4 }).map((p) => p.join('')),
    alt: fc.array(tie('re'), { minLength: 2, maxLength: 3 }).map((p) => `(${p.join('|')})`),
    rep: fc.tuple(tie('re'), fc.constantFrom('*', '+', '?', '{2}', '{1,3}', '{2,}', '*?')).map(([r, q]) => `(${r})${q}`),
  }));

  const n = runs(1_500, 100_000);
  it('any pattern that compiles matches adversarial key names within the hang guard', { timeout: budget(n) }, async () => {
    await fuzz({
      name: 'regex/compile-and-match',
      arb: fc.tuple(re, fc.constantFrom('^', ''), fc.constantFrom('$', '!', '')),
      numRuns: n,
      allowed: ['malformed'],
      run: ([body, pre, post]) => {
        const r = compileGoRegex(`${pre}${body}${post}`, 'rule');
        return ADVERSARIAL.map((s) => r.test(s));
      },
    });
  });
});

describe('regular expressions too large to compile', () => {
  it('are malformed when compiled, not a SyntaxError at first match (found by the .sops.yaml fuzz)', () => {
    for (const src of [`\\.dev\\.y${'A'.repeat(100_000)}aml$`, 'a'.repeat(1_000_000)]) {
      expect(() => compileGoRegex(src, 'rule')).toThrow(WithSecretsError);
    }
  });
});
