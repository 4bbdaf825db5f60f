// Tests of the sops metadata block: weakly typed reading, key groups, and the 3.13 layout on write.
import { describe, expect, it } from 'vitest';
import { WithSecretsError } from '../../src/errors.js';
import { metadataToTree, parseMetadata, SOPS_LAYOUT_VERSION } from '../../src/sops/metadata.js';
import { entry, map, str, type MapNode, type Node } from '../../src/sops/tree.js';

const list = (items: Node[]): Node => ({ type: 'list', items });
const age = (r: string, e: string) => map([entry('recipient', str(r)), entry('enc', str(e))]);

describe('metadata', () => {
  it('reads top-level age keys, weak types and the rules', () => {
    const m = parseMetadata(
      map([
        entry('age', list([age('age1a', 'A'), age('age1b', 'B')])),
        entry('lastmodified', str('2024-03-25T01:15:16Z')),
        entry('mac', str('ENC[x]')),
        entry('mac_only_encrypted', str('true')),
        entry('shamir_threshold', str('2')),
        entry('encrypted_regex', str('^data$')),
        entry('pgp', list([map([entry('fp', str('ABC'))])])),
      ]),
      'f.env',
    );
    expect(m.keyGroups).toHaveLength(1);
    expect(m.keyGroups[0]!.age).toEqual([
      { recipient: 'age1a', enc: 'A' },
      { recipient: 'age1b', enc: 'B' },
    ]);
    expect(m.keyGroups[0]!.others.map((e) => e.key)).toEqual(['pgp']);
    expect(m.macOnlyEncrypted).toBe(true);
    expect(m.shamirThreshold).toBe(2);
    expect(m.rules).toEqual({ encryptedRegex: '^data$' });
    expect(m.version).toBeUndefined();
  });

  it('reads key_groups when no top-level list is set, and refuses a file without keys', () => {
    const groups = map([
      entry('key_groups', list([map([entry('age', list([age('age1a', 'A')]))]), map([entry('age', list([age('age1b', 'B')]))])])),
      entry('shamir_threshold', { type: 'int', value: '2' }),
      entry('lastmodified', str('2024-03-25T01:15:16Z')),
      entry('mac', str('')),
      entry('version', str('3.9.0')),
    ]);
    const m = parseMetadata(groups, 'f.yaml');
    expect(m.keyGroups.map((g) => g.age[0]!.recipient)).toEqual(['age1a', 'age1b']);
    expect(() => parseMetadata(map([entry('lastmodified', str('2024-03-25T01:15:16Z'))]), 'f.yaml')).toThrow(/no keys/);
  });

  it('refuses a bad lastmodified or threshold with the key named', () => {
    const base = [entry('age', list([age('a', 'b')]))];
    for (const bad of [
      map([...base, entry('lastmodified', str('nope'))]),
      map([...base, entry('lastmodified', str('2024-03-25T01:15:16Z')), entry('shamir_threshold', str('two'))]),
      map([...base, entry('lastmodified', list([]))]),
    ]) {
      try {
        parseMetadata(bad, 'f.yaml');
        expect.unreachable();
      } catch (e) {
        expect((e as WithSecretsError).code).toBe('malformed');
        expect((e as Error).message).toMatch(/^f\.yaml: sops\.(lastmodified|shamir_threshold)/);
      }
    }
  });

  it('writes the sops 3.13 layout: keys sorted, enc before recipient, version stamped', () => {
    const tree = metadataToTree({
      keyGroups: [{ age: [{ recipient: 'age1a', enc: 'A' }], others: [] }],
      shamirThreshold: 0,
      lastmodified: '2024-03-25T01:15:16Z',
      mac: 'ENC[m]',
      version: '3.7.1',
      rules: {},
      macOnlyEncrypted: false,
    });
    const keys = (m: MapNode) => m.items.map((i) => (i.type === 'entry' ? i.key : '#'));
    expect(keys(tree)).toEqual(['age', 'lastmodified', 'mac', 'unencrypted_suffix', 'version']);
    const ageList = tree.items[0]!.type === 'entry' ? tree.items[0]!.value : undefined;
    expect(ageList?.type === 'list' && keys(ageList.items[0] as MapNode)).toEqual(['enc', 'recipient']);
    expect(tree.items.at(-1)).toEqual(entry('version', str(SOPS_LAYOUT_VERSION)));

    const multi = metadataToTree({
      keyGroups: [
        { age: [{ recipient: 'a', enc: 'A' }], others: [] },
        { age: [{ recipient: 'b', enc: 'B' }], others: [] },
      ],
      shamirThreshold: 2,
      lastmodified: '2024-03-25T01:15:16Z',
      mac: 'm',
      version: undefined,
      rules: { encryptedSuffix: '_enc' },
      macOnlyEncrypted: true,
    });
    expect(keys(multi)).toEqual(['encrypted_suffix', 'key_groups', 'lastmodified', 'mac', 'mac_only_encrypted', 'shamir_threshold', 'version']);
    // What is written reads back the same.
    const back = parseMetadata(multi, 'f');
    expect(back.keyGroups.map((g) => g.age)).toEqual([[{ recipient: 'a', enc: 'A' }], [{ recipient: 'b', enc: 'B' }]]);
    expect(back.shamirThreshold).toBe(2);
    expect(back.macOnlyEncrypted).toBe(true);
    expect(back.rules).toEqual({ encryptedSuffix: '_enc' });
  });
});
