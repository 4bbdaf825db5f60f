// YAML store reading: typing as yaml.v3, comments as sops places them, multi-document, aliases, errors.

import { describe, expect, it } from 'vitest';
import { loadStore } from '../../../src/sops/stores/index.js';
import type { MapNode, Node } from '../../../src/sops/tree.js';
import { isWithSecretsError } from '../../../src/errors.js';

async function load(text: string): Promise<MapNode[]> {
  return (await loadStore('yaml', text, 'test.yaml')).branches;
}

/** A compact view of a tree: comments as "#text" (inline "#>text"), scalars as [type, value]. */
function view(node: Node | MapNode): unknown {
  switch (node.type) {
    case 'map':
      return node.items.map((i) => (i.type === 'comment' ? `#${i.inline === true ? '>' : ''}${i.value}` : [i.key, view(i.value)]));
    case 'list':
      return { list: node.items.map((i) => (i.type === 'comment' ? `#${i.inline === true ? '>' : ''}${i.value}` : view(i))) };
    case 'null':
      return null;
    case 'bytes':
      return ['bytes'];
    default:
      return [node.type, node.value];
  }
}

describe('YAML typing (yaml.v3 decoding into interface{})', () => {
  const cases: Array<[string, unknown]> = [
    ['1', ['int', '1']],
    ['-17', ['int', '-17']],
    ['+5', ['int', '5']],
    ['0x1F', ['int', '31']],
    ['0o17', ['int', '15']],
    ['017', ['int', '15']],
    ['0b101', ['int', '5']],
    ['1_000', ['int', '1000']],
    ['9223372036854775807', ['int', '9223372036854775807']],
    ['18446744073709551615', ['int', '18446744073709551615']],
    ['18446744073709551616', ['float', 18446744073709551616]],
    ['08', ['float', 8]],
    ['1.5', ['float', 1.5]],
    ['1e3', ['float', 1000]],
    ['.5', ['float', 0.5]],
    ['-.5', ['float', -0.5]],
    ['.inf', ['float', Infinity]],
    ['-.Inf', ['float', -Infinity]],
    ['1e400', ['str', '1e400']],
    ['true', ['bool', true]],
    ['True', ['bool', true]],
    ['FALSE', ['bool', false]],
    ['yes', ['str', 'yes']],
    ['on', ['str', 'on']],
    ['tRue', ['str', 'tRue']],
    ['null', null],
    ['~', null],
    ['', null],
    ['2024-01-01', ['time', '2024-01-01T00:00:00Z']],
    ['2024-1-2', ['time', '2024-01-02T00:00:00Z']],
    ['2001-12-14t21:59:43.10-05:00', ['time', '2001-12-14T21:59:43.1-05:00']],
    ['2001-12-14 21:59:43.10', ['time', '2001-12-14T21:59:43.1Z']],
    ['2024-03-25T01:15:16Z', ['time', '2024-03-25T01:15:16Z']],
    ['2024-03-25T01:15:16+00:00', ['time', '2024-03-25T01:15:16Z']],
    ['2024-03-25T01:15:16', ['str', '2024-03-25T01:15:16']],
    ['2024-02-30', ['str', '2024-02-30']],
    ['"123"', ['str', '123']],
    ["'true'", ['str', 'true']],
    ['"2024-01-01"', ['str', '2024-01-01']],
    ['!!str 12', ['str', '12']],
    ['!!float 12', ['float', 12]],
    ['hello world', ['str', 'hello world']],
    ['12:30', ['str', '12:30']],
    ['ENC[AES256_GCM,data:abc=,iv:x,tag:y,type:str]', ['str', 'ENC[AES256_GCM,data:abc=,iv:x,tag:y,type:str]']],
  ];
  for (const [src, want] of cases) {
    it(`v: ${src}`, async () => {
      const [b] = await load(`v: ${src}\n`);
      expect(view(b!)).toEqual([['v', want]]);
    });
  }

  it('reads block scalars as strings', async () => {
    const [b] = await load('a: |\n    x\n    # not a comment\nb: >-\n    folded\n    text\n');
    expect(view(b!)).toEqual([
      ['a', ['str', 'x\n# not a comment\n']],
      ['b', ['str', 'folded text']],
    ]);
  });
});

describe('YAML comments (as sops stores/yaml/store_test.go)', () => {
  it('PLAIN: multi-document with head and foot comments', async () => {
    const bs = await load('---\n# comment 0\nkey1: value\nkey1_a: value\n# ^ comment 1\n---\nkey2: value2');
    expect(bs.map(view)).toEqual([
      ['# comment 0', ['key1', ['str', 'value']], ['key1_a', ['str', 'value']], '# ^ comment 1'],
      [['key2', ['str', 'value2']]],
    ]);
  });

  it('COMMENT_6: a comment between list items', async () => {
    const [b] = await load('a:\n    - a\n    # I no longer get duplicated\n    - {}\n');
    expect(view(b!)).toEqual([['a', { list: [['str', 'a'], '# I no longer get duplicated', []] }]]);
  });

  it('COMMENT_7: a comment at the indentation of an outer map stays in that map', async () => {
    const [b] = await load('a:\n    b:\n        c: d\n    # comment\n\ne:\n    - f\n');
    expect(view(b!)).toEqual([
      ['a', [['b', [['c', ['str', 'd']]]], '# comment']],
      ['e', { list: [['str', 'f']] }],
    ]);
  });

  it('inline comments come before their entry, marked inline', async () => {
    const [b] = await load('key1: value1 # inline comment\nkey2: value2\n# head comment\nkey3: value3 # another inline\n');
    expect(view(b!)).toEqual([
      '#> inline comment',
      ['key1', ['str', 'value1']],
      ['key2', ['str', 'value2']],
      '# head comment',
      '#> another inline',
      ['key3', ['str', 'value3']],
    ]);
  });

  it('inline comments on list items', async () => {
    const [b] = await load('items:\n    - value1 # inline on list item\n    - value2\n');
    expect(view(b!)).toEqual([['items', { list: ['#> inline on list item', ['str', 'value1'], ['str', 'value2']] }]]);
  });

  it('a comment after a key whose value is a map goes before the key', async () => {
    const [b] = await load('a: # on a\n    # in a\n    b: 1\n    # foot of a\n# before c\nc: 2\n');
    expect(view(b!)).toEqual([
      '# on a',
      ['a', ['# in a', ['b', ['int', '1']], '# foot of a']],
      '# before c',
      ['c', ['int', '2']],
    ]);
  });

  it('comment-only document', async () => {
    const [b] = await load('# only\n');
    expect(view(b!)).toEqual(['# only']);
  });
});

describe('YAML structure', () => {
  it('expands aliases (ALIASES of sops store_test.go)', async () => {
    const [b] = await load('---\nkey1: &foo\n  - foo\nkey2: *foo\nkey3: &bar\n  foo: bar\n  baz: bam\nkey4: *bar\n');
    const m = [['foo', ['str', 'bar']], ['baz', ['str', 'bam']]];
    expect(view(b!)).toEqual([
      ['key1', { list: [['str', 'foo']] }],
      ['key2', { list: [['str', 'foo']] }],
      ['key3', m],
      ['key4', m],
    ]);
  });

  it('null document is an empty branch; empty text is one empty branch', async () => {
    expect((await load('---\n---\na: 1\n')).map(view)).toEqual([[], [['a', ['int', '1']]]]);
    expect((await load('')).map(view)).toEqual([[]]);
  });

  it('takes sops from the first document and removes it from every document', async () => {
    const r = await loadStore('yaml', 'a: 1\nsops:\n    version: 3.9.0\n---\nb: 2\nsops:\n    version: x\n', 't.yaml');
    expect(r.branches.map(view)).toEqual([[['a', ['int', '1']]], [['b', ['int', '2']]]]);
    expect(view(r.metadata!)).toEqual([['version', ['str', '3.9.0']]]);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['sequence document', '- a\n- b\n', /line 1: .*sequence/],
    ['scalar document', 'hello\n', /single value/],
    ['duplicate key', 'hello: 1\nhello: 2\n', /line 2: duplicate key "hello" \(first defined at line 1\)/],
    ['nested duplicate', 'root:\n  key2: "value"\n  key2: "foo"\n', /line 3: duplicate key/],
    ['int key', '1: a\n', /line 1: a map key is an integer/],
    ['sops not a map', 'a: 1\nsops: 3\n', /sops entry is not a map/],
    ['syntax error', 'a: [1, 2\nb: c\n', /line \d+, column \d+: invalid YAML/],
    ['bad indentation', 'a:\n  b: 1\n c: 2\n', /invalid YAML/],
    ['unknown alias', 'a: *nope\n', /invalid YAML|unknown anchor/],
  ];
  for (const [name, src, re] of bad) {
    it(`rejects ${name}`, async () => {
      const err = await load(src).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isWithSecretsError(err, 'malformed'), String(err)).toBe(true);
      expect((err as Error).message).toMatch(/^test\.yaml: /);
      expect((err as Error).message).toMatch(re);
    });
  }
});
