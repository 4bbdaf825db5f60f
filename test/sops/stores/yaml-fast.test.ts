// The fast YAML reader agrees with the `yaml` package path wherever it accepts input, and accepts what sops writes.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emitStore, loadStore } from '../../../src/sops/stores/index.js';
import { parseYamlFast } from '../../../src/sops/stores/yaml-fast.js';
import { buildBranches } from '../../../src/sops/stores/yaml-ir.js';
import { parseYamlDocuments } from '../../../src/sops/stores/yaml-parse-lib.js';
import type { Comment, Entry, ListNode, MapNode, Node, Scalar } from '../../../src/sops/tree.js';

type Outcome = { ok: MapNode[] } | { error: string };

function outcome(f: () => MapNode[]): Outcome {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** Both paths on `text`: the fast result (undefined when it declines) and the library result. */
function both(text: string): { fast: Outcome | undefined; lib: Outcome } {
  const docs = parseYamlFast(text);
  const fast = docs === undefined ? undefined : outcome(() => buildBranches(docs, 't.yaml'));
  const lib = outcome(() => buildBranches(parseYamlDocuments(text, 't.yaml'), 't.yaml'));
  return { fast, lib };
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const vectorsDir = path.resolve(repoRoot, '../shared/vectors');
const haveVectors = existsSync(vectorsDir);
if (!haveVectors) console.warn(`SKIPPED: fast-YAML vector comparison, ${vectorsDir} is absent`);

describe('fast YAML reader', () => {
  const samples = [
    'a: 1\n',
    '# c\na: 1 # inline\nb:\n    c: "q # not comment"\n    d: \'it\'\'s\'\n    # foot\n# top foot\n',
    'list:\n- a\n- b: 1\n  c: 2\n# after\nz: |\n    x\n    # content\n\n    y\n',
    'k: |-\n  no newline\nk2: |+\n  keep\n\n\nk3: v\n',
    '---\n# c0\na: b\n---\n---\nc: d\n',
    'a:\n    b:\n        c: d\n    # comment\n\ne:\n    - f\n',
    'x: 0x1F\ny: 2024-01-01\nz: "2024-01-01"\nw: ~\nv: -.inf\nu: 1_000\n',
    '"quoted key": 1\n\'single\': 2\n"esc\\tkey\\u00e9": 3\n',
    'a:\n  - - nested\n',
    'a: [1, 2]\n',
    'a: &x 1\nb: *x\n',
    'a: b: c\n',
    'a:\n  b\n  c\n',
    '- a\n- b\n',
    'plain\n',
    'a: 1\n a: 2\n',
    'a: 1\na: 2\n',
  ];
  for (const s of samples) {
    it(`agrees with the yaml package: ${JSON.stringify(s)}`, () => {
      const { fast, lib } = both(s);
      if (fast !== undefined) expect(fast).toEqual(lib);
    });
  }

  it('accepts the plain block YAML sops writes', () => {
    for (const s of samples.slice(0, 8)) expect(parseYamlFast(s), s).toBeDefined();
  });

  describe.skipIf(!haveVectors)('vectors', () => {
    const files = haveVectors
      ? readdirSync(vectorsDir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.ya?ml$/.test(f))
      : [];
    for (const f of files) {
      it(`${f}: same tree from both readers`, () => {
        const text = readFileSync(path.join(vectorsDir, f), 'utf8');
        const { fast, lib } = both(text);
        expect(fast).toBeDefined();
        expect(fast).toEqual(lib);
      });
    }
  });

  // Random trees, written by our emitter, read back by both paths.
  const keyArb = fc.oneof(
    fc.constantFrom('a', 'key', 'sops', 'x_unencrypted', '1', 'true', 'with space', 'a: b', '#h', "it's", 'é', '- x', '', '~'),
    fc.string({ maxLength: 8 }),
  );
  const strArb = fc.oneof(
    fc.constantFrom('', 'plain', '123', 'true', 'null', ' lead', 'trail ', 'a: b', 'a #b', 'x\ny', 'x\n', '\nlead', 'tab\t', '"q"', "'s'", '2024-01-01', 'ENC[AES256_GCM,data:QUJD,iv:x,tag:y,type:str]', '😀'),
    fc.string({ maxLength: 12 }),
  );
  const scalarArb: fc.Arbitrary<Scalar> = fc.oneof(
    strArb.map((value) => ({ type: 'str' as const, value })),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => ({ type: 'int' as const, value: v.toString() })),
    fc.double({ noNaN: true }).filter((f) => !Number.isInteger(f) && Number.isFinite(f)).map((value) => ({ type: 'float' as const, value })),
    fc.boolean().map((value) => ({ type: 'bool' as const, value })),
    fc.constant({ type: 'null' as const }),
    fc.constantFrom('2024-01-01T00:00:00Z', '2001-12-14T21:59:43.1-05:00').map((value) => ({ type: 'time' as const, value })),
  );
  const commentArb: fc.Arbitrary<Comment> = fc.constantFrom(' note', 'ENC[AES256_GCM,data:QUJD,iv:x,tag:y,type:comment]', ' two  spaces', '').map((value) => ({ type: 'comment' as const, value }));
  const { tree } = fc.letrec<{ tree: MapNode; node: Node; list: ListNode }>((tie) => ({
    tree: fc
      .uniqueArray(fc.tuple(keyArb, tie('node'), fc.option(commentArb, { nil: undefined })), { maxLength: 5, selector: (t) => t[0] })
      .map((entries): MapNode => ({
        type: 'map',
        items: entries.flatMap(([key, value, c]): Array<Entry | Comment> => (c === undefined ? [{ type: 'entry', key, value }] : [c, { type: 'entry', key, value }])),
      })),
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalarArb, tie('tree'), tie('list')),
    list: fc.array(tie('node'), { maxLength: 4 }).map((items): ListNode => ({ type: 'list', items })),
  }));

  it('property: both readers agree on what our writer writes, and the fast one rarely declines', async () => {
    let declined = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(tree, fc.constantFrom(2, 4), async (t, indent) => {
        runs++;
        const text = await emitStore('yaml', [t], undefined, { indent });
        const { fast, lib } = both(text);
        expect('ok' in lib, `library path failed on ${JSON.stringify(text)}`).toBe(true);
        if (fast === undefined) declined++;
        else expect(fast).toEqual(lib);
      }),
      { numRuns: 300 },
    );
    expect(declined).toBeLessThan(runs);
  });

  it('property: on mutated input the fast reader declines or agrees with the yaml package', async () => {
    const base = 'a: 1 # c\nb:\n    - x\n    - k: "v"\n      j: |\n        lit\n# foot\nc: \'q\'\n---\nd: 2024-01-01\n';
    await fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length), fc.nat(3), fc.constantFrom('', ' ', '-', ':', '#', '\n', '"', "'", '|', 'x', '  ', '---\n', '\\')), { minLength: 1, maxLength: 4 }), (edits) => {
        let text = base;
        for (const [at, del, ins] of edits) {
          const p = Math.min(at, text.length);
          text = text.slice(0, p) + ins + text.slice(p + del);
        }
        const { fast, lib } = both(text);
        if (fast !== undefined) expect(fast, JSON.stringify(text)).toEqual(lib);
      }),
      { numRuns: 400 },
    );
  });

  it('reads a ~1 MB sops-like file with the fast reader', async () => {
    const parts: string[] = [];
    for (let i = 0; parts.length * 120 < 1_000_000; i++) {
      parts.push(`key${i}:\n    value: ENC[AES256_GCM,data:QUJDREVGR0g=,iv:aXZpdml2aXZpdml2aXZpdg==,tag:dGFndGFn,type:str]\n    # comment ${i}\n    list:\n        - ${i}\n`);
    }
    const text = parts.join('');
    expect(parseYamlFast(text)).toBeDefined();
    const r = await loadStore('yaml', text, 'big.yaml');
    expect(r.branches[0]!.items.filter((x) => x.type === 'entry')).toHaveLength(parts.length);
    const last = r.branches[0]!.items[r.branches[0]!.items.length - 1]!;
    expect(last.type === 'entry' && last.key).toBe(`key${parts.length - 1}`);
  });
});
