// Property round trips: for every store, what we write reads back to the same tree (values, types, comments).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { emitStore, loadStore } from '../../../src/sops/stores/index.js';
import type { Comment, Entry, ListNode, MapNode, Node, Scalar } from '../../../src/sops/tree.js';

const str = (value: string): Scalar => ({ type: 'str', value });
const comment = (value: string, inline = false): Comment => (inline ? { type: 'comment', value, inline } : { type: 'comment', value });

const META: MapNode = {
  type: 'map',
  items: [
    { type: 'entry', key: 'lastmodified', value: str('2024-03-25T01:15:16Z') },
    { type: 'entry', key: 'mac', value: str('ENC[AES256_GCM,data:QUJD,iv:aXY=,tag:dGFn,type:str]') },
    { type: 'entry', key: 'version', value: str('3.9.0') },
  ],
};

const textArb = fc.oneof(
  fc.string({ maxLength: 16, unit: 'binary' }),
  fc.constantFrom('', 'plain', '123', '0x1F', 'true', 'yes', 'null', '~', ' lead', 'trail ', 'a: b', 'a #b', '# c', 'x\ny', 'x\n', '\nlead', 'l1\n\nl3\n\n', 'tab\t', '"q"', "'s'", '2024-01-01', '1:20', '- x', '? x', '@', '---', '...', '😀', 'é', 'ENC[AES256_GCM,data:QUJD,iv:x,tag:y,type:str]'),
);

/** Scalars that read back with the same type (floats that print as ints would come back as `int`, as in sops). */
const scalarArb: fc.Arbitrary<Scalar> = fc.oneof(
  textArb.map(str),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }).map((v): Scalar => ({ type: 'int', value: v.toString() })),
  fc.double({ noNaN: false }).filter((f) => !Number.isInteger(f) || !Number.isFinite(f)).map((value): Scalar => ({ type: 'float', value })),
  fc.boolean().map((value): Scalar => ({ type: 'bool', value })),
  fc.constant<Scalar>({ type: 'null' }),
  fc.constantFrom('2024-01-01T00:00:00Z', '2001-12-14T21:59:43.1-05:00', '2024-02-29T23:59:59.999999999Z').map((value): Scalar => ({ type: 'time', value })),
);

const commentText = fc.oneof(fc.constantFrom(' note', 'ENC[AES256_GCM,data:QUJD,iv:x,tag:y,type:comment]', ' # double', ''), fc.string({ maxLength: 10 }).filter((s) => !/[\n\r\u0085\u2028\u2029]/.test(s)));
const yamlKey = fc.oneof(fc.constantFrom('a', 'key', 'x_unencrypted', '1', 'true', 'with space', 'a: b', '#h', '', '~', 'k'.repeat(130)), fc.string({ maxLength: 8, unit: 'binary' })).filter((k) => k !== 'sops');

/** YAML trees whose comments sit where the YAML store puts them on reading. */
const { yamlMap } = fc.letrec<{ yamlMap: MapNode; node: Node; list: ListNode }>((tie) => ({
  yamlMap: fc
    .tuple(
      fc.uniqueArray(fc.tuple(yamlKey, tie('node'), fc.option(commentText, { nil: undefined }), fc.option(commentText, { nil: undefined })), { maxLength: 4, selector: (t) => t[0] }),
      fc.option(commentText, { nil: undefined }),
    )
    .map(([entries, foot]): MapNode => {
      const items: Array<Entry | Comment> = [];
      for (const [key, value, head, inline] of entries) {
        if (head !== undefined) items.push(comment(head));
        const leaf = value.type !== 'map' && value.type !== 'list';
        if (inline !== undefined && leaf) items.push(comment(inline, true));
        items.push({ type: 'entry', key, value });
      }
      if (foot !== undefined && items.length > 0) items.push(comment(foot));
      return { type: 'map', items };
    }),
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalarArb, tie('yamlMap'), tie('list')),
  list: fc
    .array(fc.tuple(tie('node'), fc.option(commentText, { nil: undefined })), { maxLength: 3 })
    .map(([...items]): ListNode => ({
      type: 'list',
      items: items.flatMap(([v, c]) => (c === undefined ? [v] : [comment(c), v])),
    })),
}));

/** Comments at the start of a map or list that is a list element are written above the `-`, so they come back in the outer list. */
function normalizeListMaps(node: Node): Node {
  if (node.type === 'map') return { type: 'map', items: node.items.map((i) => (i.type === 'entry' ? { ...i, value: normalizeListMaps(i.value) } : i)) };
  if (node.type !== 'list') return node;
  const items: Array<Node | Comment> = [];
  for (const raw of node.items) {
    if (raw.type === 'comment') {
      items.push(raw);
      continue;
    }
    const v = normalizeListMaps(raw);
    if ((v.type === 'map' || v.type === 'list') && v.items.some((i) => i.type !== 'comment')) {
      let k = 0;
      while (v.items[k]?.type === 'comment') items.push(v.items[k++] as Comment);
      items.push(v.type === 'map' ? { type: 'map', items: v.items.slice(k) as Array<Entry | Comment> } : { type: 'list', items: v.items.slice(k) });
    } else items.push(v);
  }
  return { type: 'list', items };
}

/** A map or list whose only items are comments is written as `{}`/`[]` with the comments above, inside it. */
function hasOnlyComments(n: Node): boolean {
  return (n.type === 'map' || n.type === 'list') && n.items.length > 0 && n.items.every((i) => i.type === 'comment');
}

describe('round trips', () => {
  it('YAML: values, types and comments survive, with or without metadata, indent 2 or 4', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(yamlMap, { minLength: 1, maxLength: 2 }), fc.boolean(), fc.constantFrom(2, 4), async (branches, withMeta, indent) => {
        const text = await emitStore('yaml', branches, withMeta ? META : undefined, { indent });
        const back = await loadStore('yaml', text, 't.yaml');
        const want = branches.map((b) => normalizeListMaps(b) as MapNode);
        const got = back.branches.map((b) => normalizeListMaps(b) as MapNode);
        expect(got, text).toEqual(want);
        expect(back.metadata).toEqual(withMeta ? META : undefined);
        // Writing what we read, and reading that, is stable (comments already sit where reading puts them).
        const text2 = await emitStore('yaml', back.branches, back.metadata, { indent });
        const back2 = await loadStore('yaml', text2, 't.yaml');
        expect(back2).toEqual(back);
        expect(await emitStore('yaml', back2.branches, back2.metadata, { indent })).toBe(text2);
      }),
      { numRuns: 300, examples: [] },
    );
  });

  it('YAML: the independent `yaml` package reads the same data from what we write', async () => {
    const toJs = (n: Node): unknown => {
      switch (n.type) {
        case 'map': {
          const m = new Map<unknown, unknown>();
          for (const i of n.items) if (i.type === 'entry') m.set(i.key, toJs(i.value));
          return m;
        }
        case 'list':
          return n.items.filter((i) => i.type !== 'comment').map((i) => toJs(i as Node));
        case 'int':
          return BigInt(n.value);
        case 'null':
          return null;
        case 'bytes':
          return n.value;
        default:
          return n.value;
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.array(yamlMap, { minLength: 1, maxLength: 2 }), async (branches) => {
        const text = await emitStore('yaml', branches, undefined);
        const docs = parseAllDocuments(text, { intAsBigInt: true, uniqueKeys: true });
        for (const d of docs) expect(d.errors, text).toEqual([]);
        expect(docs.map((d) => d.toJS({ mapAsMap: true }) as unknown), text).toEqual(branches.map((b) => toJs(b)));
      }),
      { numRuns: 300 },
    );
  });

  it('YAML: an empty map holding only comments keeps them', async () => {
    const tree: MapNode = { type: 'map', items: [{ type: 'entry', key: 'a', value: { type: 'map', items: [comment(' only')] } }] };
    expect(hasOnlyComments(tree.items[0]?.type === 'entry' ? tree.items[0].value : tree)).toBe(true);
    const text = await emitStore('yaml', [tree], undefined);
    expect((await loadStore('yaml', text, 't.yaml')).branches).toEqual([tree]);
  });

  const jsonScalar: fc.Arbitrary<Scalar> = fc.oneof(
    fc.string({ maxLength: 16, unit: 'binary' }).filter((s) => !/[\ud800-\udfff]/.test(s)).map(str),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v): Scalar => ({ type: 'int', value: v.toString() })),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((f) => !Number.isInteger(f)).map((value): Scalar => ({ type: 'float', value })),
    fc.boolean().map((value): Scalar => ({ type: 'bool', value })),
    fc.constant<Scalar>({ type: 'null' }),
  );
  const { jsonMap } = fc.letrec<{ jsonMap: MapNode; node: Node }>((tie) => ({
    jsonMap: fc
      .uniqueArray(fc.tuple(fc.string({ maxLength: 6, unit: 'binary' }).filter((k) => k !== 'sops' && !/[\ud800-\udfff]/.test(k)), tie('node')), { maxLength: 4, selector: (t) => t[0] })
      .map((es): MapNode => ({ type: 'map', items: es.map(([key, value]) => ({ type: 'entry', key, value })) })),
    node: fc.oneof({ depthSize: 'small' }, jsonScalar, tie('jsonMap'), fc.array(tie('node'), { maxLength: 3 }).map((items): ListNode => ({ type: 'list', items }))),
  }));

  it('JSON and the binary envelope: values and types survive; the output is what JSON.parse reads', async () => {
    await fc.assert(
      fc.asyncProperty(jsonMap, fc.boolean(), fc.constantFrom(undefined, 0, 2), async (tree, withMeta, indent) => {
        const text = await emitStore('json', [tree], withMeta ? META : undefined, indent === undefined ? {} : { indent });
        const back = await loadStore('json', text, 't.json');
        expect(back.branches).toEqual([tree]);
        expect(back.metadata).toEqual(withMeta ? META : undefined);
        expect(() => JSON.parse(text) as unknown).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  const envKey = fc.string({ maxLength: 10, unit: 'binary' }).filter((k) => !/[=\n]/.test(k) && !k.startsWith('#') && !k.startsWith('sops_') && k !== '');
  const envValue = fc.string({ maxLength: 16, unit: 'binary' }).filter((v) => !v.includes('\\n'));
  it('dotenv: keys, string values (newlines too) and comments survive; metadata comes back', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.tuple(envKey, envValue).map(([key, v]): Entry | Comment => ({ type: 'entry', key, value: str(v) })), fc.string({ maxLength: 10, unit: 'binary' }).filter((c) => !c.includes('\n')).map((c) => comment(c))), { maxLength: 6 }),
        fc.boolean(),
        async (items, withMeta) => {
          const tree: MapNode = { type: 'map', items };
          const text = await emitStore('dotenv', [tree], withMeta ? META : undefined);
          const back = await loadStore('dotenv', text, 't.env');
          expect(back.branches).toEqual([tree]);
          expect(back.metadata).toEqual(withMeta ? META : undefined);
        },
      ),
      { numRuns: 300 },
    );
  });

  const iniWord = fc.stringMatching(/^[A-Za-z0-9_.][A-Za-z0-9_. -]{0,8}[A-Za-z0-9_.]$/);
  const iniValue = fc
    .string({ maxLength: 14, unit: 'grapheme' })
    .filter((v) => !v.includes('"""') && !/\r/.test(v) && !/^(".*"|'.*')$/s.test(v.trim()) && !/^\s|\s$/.test(v.replace(/^ +| +$/g, 'x')) && !v.endsWith('\\'));
  const iniComment = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ]{0,8}[A-Za-z0-9]$/);
  const iniSection = fc
    .tuple(fc.option(iniComment, { nil: undefined }), fc.uniqueArray(fc.tuple(iniWord, iniValue, fc.option(iniComment, { nil: undefined })), { maxLength: 4, selector: (t) => t[0] }))
    .map(([c, keys]): MapNode => {
      const items: Array<Entry | Comment> = [];
      if (c !== undefined && keys.length > 0) items.push(comment(c));
      for (const [k, v, kc] of keys) {
        items.push({ type: 'entry', key: k, value: str(v) });
        if (kc !== undefined) items.push(comment(kc));
      }
      return { type: 'map', items };
    });
  it('INI: sections, string values, section and key comments survive; metadata comes back', async () => {
    await fc.assert(
      fc.asyncProperty(
        iniSection,
        fc.uniqueArray(fc.tuple(iniWord.filter((n) => n !== 'sops' && n !== 'DEFAULT'), iniSection), { maxLength: 3, selector: (t) => t[0] }),
        fc.boolean(),
        async (def, sections, withMeta) => {
          // A comment above DEFAULT's first key is read as that key's comment, as in ini.v1; keep DEFAULT without one.
          const defaultSection: MapNode = { type: 'map', items: def.items[0]?.type === 'comment' ? def.items.slice(1) : def.items };
          const tree: MapNode = {
            type: 'map',
            items: [{ type: 'entry', key: 'DEFAULT', value: defaultSection }, ...sections.map(([name, s]): Entry => ({ type: 'entry', key: name, value: s }))],
          };
          const text = await emitStore('ini', [tree], withMeta ? META : undefined);
          const back = await loadStore('ini', text, 't.ini');
          expect(back.branches, text).toEqual([tree]);
          expect(back.metadata).toEqual(withMeta ? META : undefined);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('binary: any text survives, raw and in the envelope', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 40, unit: 'binary' }).filter((s) => !/[\ud800-\udfff]/.test(s)), async (data) => {
        const plain = await loadStore('binary', data, 'f', { binary: 'plain' });
        expect(await emitStore('binary', plain.branches, undefined)).toBe(data);
        const env = await emitStore('binary', plain.branches, META);
        const back = await loadStore('binary', env, 'f');
        expect(back.branches).toEqual(plain.branches);
        expect(back.metadata).toEqual(META);
      }),
      { numRuns: 200 },
    );
  });
});
