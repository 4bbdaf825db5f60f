// YAML store writing: byte-exact against sops' own store tests and yaml.v3 quoting, and read back by us and by the `yaml` package.

import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { emitStore, loadStore } from '../../../src/sops/stores/index.js';
import { emitYamlScalar } from '../../../src/sops/stores/yaml-emit.js';
import type { MapNode, Scalar } from '../../../src/sops/tree.js';

async function roundTrip(text: string, indent?: number): Promise<string> {
  const { branches } = await loadStore('yaml', text, 't.yaml');
  return emitStore('yaml', branches, undefined, indent === undefined ? {} : { indent });
}

describe('YAML output matches sops (stores/yaml/store_test.go)', () => {
  const same = {
    COMMENT_1: '# test\na:\n    b: null\n    # foo\n',
    COMMENT_2: 'a:\n    # foo\n    b: null\n',
    COMMENT_6: 'a:\n    - a\n    # I no longer get duplicated\n    - {}\n',
    COMMENT_INLINE: 'key1: value1 # inline comment\nkey2: value2\n# head comment\nkey3: value3 # another inline\n',
    COMMENT_INLINE_SEQ: 'items:\n    - value1 # inline on list item\n    - value2\n',
    COMMENT_INLINE_MIXED: '# heading\nkey1: value1 # inline\nkey2: value2\n',
    COMMENT_INLINE_NESTED: 'parent:\n    child1: value1 # nested inline\n    child2: value2\n',
    EMPTY3: '{}\n',
  };
  for (const [name, text] of Object.entries(same)) {
    it(`${name} round-trips byte for byte`, async () => {
      expect(await roundTrip(text)).toBe(text);
    });
  }

  it('COMMENT_3: re-indents to 4 and drops blank lines', async () => {
    const input =
      "## Configuration for prometheus-node-exporter subchart\n##\nprometheus-node-exporter:\n  podLabels:\n    ## Add the 'node-exporter' label\n    ##\n\n    jobLabel: node-exporter\n  extraArgs:\n    - --collector.a=^/(dev|proc)($|/)\n    - --collector.b=^(autofs|binfmt_misc)$\n";
    const want =
      "## Configuration for prometheus-node-exporter subchart\n##\nprometheus-node-exporter:\n    podLabels:\n        ## Add the 'node-exporter' label\n        ##\n        jobLabel: node-exporter\n    extraArgs:\n        - --collector.a=^/(dev|proc)($|/)\n        - --collector.b=^(autofs|binfmt_misc)$\n";
    expect(await roundTrip(input)).toBe(want);
    expect(await roundTrip(input, 2)).toBe(input.replace('##\n\n    job', '##\n    job'));
  });

  it('COMMENT_7: drops the blank line, keeps the comment in the inner map', async () => {
    expect(await roundTrip('a:\n    b:\n        c: d\n    # comment\n\ne:\n    - f\n')).toBe('a:\n    b:\n        c: d\n    # comment\ne:\n    - f\n');
  });

  it('multi-document with --- between documents', async () => {
    expect(await roundTrip('---\n# comment 0\nkey1: value\nkey1_a: value\n# ^ comment 1\n---\nkey2: value2')).toBe(
      '# comment 0\nkey1: value\nkey1_a: value\n# ^ comment 1\n---\nkey2: value2\n',
    );
  });
});

describe('YAML scalar output (yaml.v3 rules)', () => {
  const cases: Array<[Scalar, string]> = [
    [{ type: 'str', value: 'plain text' }, 'plain text\n'],
    [{ type: 'str', value: '123' }, '"123"\n'],
    [{ type: 'str', value: 'true' }, '"true"\n'],
    [{ type: 'str', value: 'yes' }, '"yes"\n'],
    [{ type: 'str', value: 'null' }, '"null"\n'],
    [{ type: 'str', value: '' }, '""\n'],
    [{ type: 'str', value: '2024-03-25T01:15:16Z' }, '"2024-03-25T01:15:16Z"\n'],
    [{ type: 'str', value: '1:20' }, '"1:20"\n'],
    [{ type: 'str', value: 'a: b' }, "'a: b'\n"],
    [{ type: 'str', value: '- x' }, "'- x'\n"],
    [{ type: 'str', value: "it's #1" }, "'it''s #1'\n"],
    [{ type: 'str', value: "it's 1" }, "it's 1\n"],
    [{ type: 'str', value: 'a #b' }, "'a #b'\n"],
    [{ type: 'str', value: ' lead' }, "' lead'\n"],
    [{ type: 'str', value: 'tab\there' }, '"tab\\there"\n'],
    [{ type: 'str', value: 'tab\tin\nblock' }, '|-\n    tab\tin\n    block\n'],
    [{ type: 'str', value: 'trailing \nspace' }, '"trailing \\nspace"\n'],
    [{ type: 'str', value: 'ends:' }, "'ends:'\n"],
    [{ type: 'str', value: 'emoji 😀' }, '"emoji \\U0001F600"\n'],
    [{ type: 'str', value: 'é ü' }, 'é ü\n'],
    [{ type: 'str', value: '@handle' }, "'@handle'\n"],
    [{ type: 'str', value: 'ENC[AES256_GCM,data:a,iv:b,tag:c,type:str]' }, 'ENC[AES256_GCM,data:a,iv:b,tag:c,type:str]\n'],
    [{ type: 'int', value: '42' }, '42\n'],
    [{ type: 'float', value: 1.5 }, '1.5\n'],
    [{ type: 'float', value: 1e6 }, '1e+06\n'],
    [{ type: 'float', value: 123456.5 }, '123456.5\n'],
    [{ type: 'float', value: 0.00001 }, '1e-05\n'],
    [{ type: 'float', value: 0.0001 }, '0.0001\n'],
    [{ type: 'float', value: Infinity }, '.inf\n'],
    [{ type: 'float', value: NaN }, '.nan\n'],
    [{ type: 'bool', value: false }, 'false\n'],
    [{ type: 'null' }, 'null\n'],
    [{ type: 'time', value: '2024-01-01T00:00:00Z' }, '2024-01-01T00:00:00Z\n'],
  ];
  for (const [v, want] of cases) {
    it(`${v.type} ${JSON.stringify('value' in v ? String(v.value) : null)}`, () => {
      expect(emitYamlScalar(v)).toBe(want);
    });
  }
});

describe('YAML layout', () => {
  it('writes the armored enc as a literal block and lastmodified quoted, inside a list of maps', async () => {
    const enc = '-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n';
    const meta: MapNode = {
      type: 'map',
      items: [
        {
          type: 'entry',
          key: 'age',
          value: {
            type: 'list',
            items: [
              {
                type: 'map',
                items: [
                  { type: 'entry', key: 'recipient', value: { type: 'str', value: 'age1xyz' } },
                  { type: 'entry', key: 'enc', value: { type: 'str', value: enc } },
                ],
              },
            ],
          },
        },
        { type: 'entry', key: 'lastmodified', value: { type: 'str', value: '2024-03-25T01:15:16Z' } },
        { type: 'entry', key: 'version', value: { type: 'str', value: '3.9.0' } },
      ],
    };
    const text = await emitStore('yaml', [{ type: 'map', items: [{ type: 'entry', key: 'a', value: { type: 'str', value: 'x' } }] }], meta);
    expect(text).toBe(
      'a: x\nsops:\n    age:\n        - recipient: age1xyz\n          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            YWdl\n            -----END AGE ENCRYPTED FILE-----\n    lastmodified: "2024-03-25T01:15:16Z"\n    version: 3.9.0\n',
    );
    const back = await loadStore('yaml', text, 't.yaml');
    expect(back.metadata).toEqual(meta);
  });

  it('appends sops to every document', async () => {
    const meta: MapNode = { type: 'map', items: [{ type: 'entry', key: 'version', value: { type: 'str', value: '3.9.0' } }] };
    const b = (k: string): MapNode => ({ type: 'map', items: [{ type: 'entry', key: k, value: { type: 'int', value: '1' } }] });
    expect(await emitStore('yaml', [b('a'), b('b')], meta)).toBe('a: 1\nsops:\n    version: 3.9.0\n---\nb: 1\nsops:\n    version: 3.9.0\n');
  });

  const samples = [
    'a:\n    - - x\n      - y\n    - z\n',
    'a:\n    - k: |\n        line1\n        line2\n      j: 2\n',
    'a: |-\n    no newline at end\nb: |+\n    keep\n\n',
    'a: |4\n      leading spaces\n    second\n',
    'list:\n    - |2\n       leading\n',
    'a:\n    b:\n        # only a comment\n        {}\n',
    "'? k': v\n'a: b': '- c'\n",
    'x: "multi\\nline with trailing space \\nhere"\n',
  ];
  for (const s of samples) {
    it(`reads back what it writes: ${JSON.stringify(s)}`, async () => {
      const first = await loadStore('yaml', s, 't.yaml');
      const text = await emitStore('yaml', first.branches, undefined);
      const again = await loadStore('yaml', text, 't.yaml');
      expect(again.branches).toEqual(first.branches);
      // The independent `yaml` package reads the same data.
      const viaLib = parseAllDocuments(text).map((d) => d.toJS());
      const viaOrig = parseAllDocuments(s).map((d) => d.toJS());
      expect(viaLib).toEqual(viaOrig);
    });
  }

  it('writes keys longer than 128 bytes as complex keys', async () => {
    const key = 'k'.repeat(130);
    const text = await emitStore('yaml', [{ type: 'map', items: [{ type: 'entry', key, value: { type: 'str', value: 'v' } }] }], undefined);
    expect(text).toBe(`? ${key}\n: v\n`);
    expect((await loadStore('yaml', text, 't.yaml')).branches[0]!.items).toEqual([{ type: 'entry', key, value: { type: 'str', value: 'v' } }]);
  });
});
