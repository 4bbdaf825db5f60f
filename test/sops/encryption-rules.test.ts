// Tests of sops' partial-encryption rules, the comment stack, the AAD path and the RE2 → JavaScript regex translation.
import { describe, expect, it } from 'vitest';
import { WithSecretsError } from '../../src/errors.js';
import { aadOf, compileGoRegex, compileRules, walkBranch, type LeafContext, type WalkLeaf } from '../../src/sops/encryption-rules.js';
import { entry, map, str, type Comment, type ListNode, type MapNode, type Node } from '../../src/sops/tree.js';

const c = (value: string): Comment => ({ type: 'comment', value });
const list = (items: (Node | Comment)[]): Node => ({ type: 'list', items });

// A tree with comments at several levels, a list of maps and a null.
const tree: MapNode = map([
  c(' top'),
  entry('plain_unencrypted', str('p')),
  entry('a', map([c(' sops:enc'), entry('b', str('x')), entry('c', str('y'))])),
  entry('l', list([str('1'), c(' in list'), map([entry('m', str('2'))])])),
  entry('n', { type: 'null' }),
  entry('dataTemplates', map([entry('k', str('v'))])),
]);

function visits(t: MapNode): [string, string, LeafContext][] {
  const out: [string, string, LeafContext][] = [];
  walkBranch(t, (leaf, ctx) => {
    out.push([leaf.type, 'value' in leaf ? String(leaf.value) : '', ctx]);
    return leaf;
  });
  return out;
}

describe('walk and AAD', () => {
  it('visits leaves in document order, skips null, leaves list indices out of the path', () => {
    const v = visits(tree).map(([t, val, ctx]) => `${t}:${val}@${aadOf(ctx.path)}`);
    expect(v).toEqual([
      'comment: top@:',
      'str:p@plain_unencrypted:',
      'comment: sops:enc@a:',
      'str:x@a:b:',
      'str:y@a:c:',
      'str:1@l:',
      'comment: in list@l:',
      'str:2@l:m:',
      'str:v@dataTemplates:k:',
    ]);
  });

  it('keeps the comment stack as sops: cleared after each non-comment item', () => {
    const ctx = new Map(visits(tree).map(([, val, cx]) => [val, cx.comments.map((l) => l.join('|'))]));
    expect(ctx.get('x')).toEqual(['', ' sops:enc']);
    expect(ctx.get('y')).toEqual(['', '']);
    expect(ctx.get('2')).toEqual(['', ' in list', '']);
  });

  it('returns what did not change as it is, copies only the maps and lists above a changed leaf, and never changes its input', () => {
    const before = JSON.stringify(tree);
    expect(walkBranch(tree, (leaf) => leaf)).toBe(tree);
    // Change one leaf deep in the list: the list, its map and the top are new; every sibling is shared.
    const out = walkBranch(tree, (leaf): WalkLeaf => (leaf.type === 'str' && leaf.value === '2' ? { type: 'str', value: 'two' } : leaf));
    expect(JSON.stringify(tree)).toBe(before);
    expect(out).not.toBe(tree);
    const at = (m: MapNode, key: string): Node => (m.items.find((i) => i.type === 'entry' && i.key === key) as { value: Node }).value;
    expect(at(out, 'a')).toBe(at(tree, 'a'));
    expect(at(out, 'dataTemplates')).toBe(at(tree, 'dataTemplates'));
    expect(out.items[0]).toBe(tree.items[0]);
    const l = at(out, 'l') as ListNode;
    expect(l).not.toBe(at(tree, 'l'));
    expect(l.items[0]).toBe((at(tree, 'l') as ListNode).items[0]);
    expect(JSON.stringify(out)).toBe(before.replace('"value":"2"', '"value":"two"'));
  });
});

describe('rules', () => {
  const enc = (rules: Parameters<typeof compileRules>[0]) => {
    const r = compileRules(rules, 'f.yaml');
    return visits(tree)
      .filter(([, , ctx]) => r.shouldEncrypt(ctx.path, ctx.comments, ctx.isComment))
      .map(([, val]) => val);
  };
  it('defaults to the _unencrypted suffix (comments encrypted too)', () => {
    expect(enc({})).toEqual([' top', ' sops:enc', 'x', 'y', '1', ' in list', '2', 'v']);
  });
  it('encrypted_suffix and the regex rules test every path component', () => {
    expect(enc({ encryptedSuffix: 'Templates' })).toEqual(['v']);
    expect(enc({ encryptedRegex: '^(a|l)$' })).toEqual([' sops:enc', 'x', 'y', '1', ' in list', '2']);
    expect(enc({ unencryptedRegex: '^a$' })).toEqual([' top', 'p', '1', ' in list', '2', 'v']);
  });
  it('comment regexes use the stack; the matching comment itself stays plain', () => {
    expect(enc({ encryptedCommentRegex: 'sops:enc' })).toEqual(['x']);
    expect(enc({ unencryptedCommentRegex: 'sops:enc|in list' })).toEqual([' top', 'p', 'y', '1', 'v']);
  });
  it('refuses more than one rule', () => {
    expect(() => compileRules({ encryptedRegex: 'a', unencryptedSuffix: '_x' }, 'f.yaml')).toThrow(/more than one/);
  });
});

describe('Go RE2 to JavaScript', () => {
  const m = (re: string, s: string) => compileGoRegex(re, 't').test(s);
  it('carries over the common syntax', () => {
    expect(m('^(data|stringData)$', 'stringData')).toBe(true);
    expect(m('(?i)^PASS', 'password')).toBe(true);
    expect(m('\\Apass\\z', 'pass')).toBe(true);
    expect(m('\\Apass\\z', 'pass\n')).toBe(false);
    expect(m('[[:upper:]]+_KEY', 'API_KEY')).toBe(true);
    expect(m('\\QTemplates.\\E$', 'xTemplates.')).toBe(true);
    expect(m('\\QTemplates.\\E$', 'xTemplatesX')).toBe(false);
    expect(m('(?P<n>ab)+', 'abab')).toBe(true);
    expect(m('\\pL+', 'é')).toBe(true);
    expect(m('\\p{Greek}', 'λ')).toBe(true);
    expect(m('a\\_b', 'a_b')).toBe(true);
    expect(m('[]a]', ']')).toBe(true);
    expect(m('a{', 'a{')).toBe(true);
    expect(m('\\s', '\u00a0')).toBe(false); // Go's \s is ASCII only
    expect(m('\\141', 'a')).toBe(true);
    expect(() => m('^(ab?)+$', 'abab')).toThrow(WithSecretsError); // refused: (a?a?)+ has the same shape and backtracks exponentially
    expect(m('(a+)?b', 'aab')).toBe(true);
  });
  it('rejects what JavaScript cannot do the same way, and what RE2 refuses', () => {
    for (const re of ['(?U)a+', 'a(?i)b', '(?i:a)', '(?=a)', 'a\\1', '\\C', '[a', 'a{1001}', '(a+)+$', '(x*y)*', '((a)+b){2,}']) {
      try {
        compileGoRegex(re, 'f.yaml: encrypted_regex');
        expect.unreachable(re);
      } catch (e) {
        expect(e).toBeInstanceOf(WithSecretsError);
        expect((e as WithSecretsError).code).toBe('malformed');
        expect((e as Error).message).toContain('f.yaml: encrypted_regex');
      }
    }
  });
});

describe('Go RE2 translation on arbitrary input (property)', () => {
  it('gives a RegExp or a malformed error, never another exception', async () => {
    const fc = (await import('fast-check')).default;
    const pieces = fc.constantFrom('(', ')', '[', ']', '{', '}', '\\', '?', '*', '+', '|', '^', '$', '.', ':', 'P', '<', '>', '=', '!', 'a', '1', 'Q', 'E', 'p', 'x', '-', 'i', 's', ',');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(pieces, { maxLength: 30 }).map((a) => a.join(''))), (src) => {
        try {
          const re = compileGoRegex(src, 'f: encrypted_regex');
          expect(re).toBeInstanceOf(RegExp);
          re.test('probe');
        } catch (e) {
          expect(e).toBeInstanceOf(WithSecretsError);
          expect((e as WithSecretsError).code).toBe('malformed');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
