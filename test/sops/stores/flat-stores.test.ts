// dotenv, INI, JSON and binary stores: reading and writing as sops does, metadata flattening, errors.

import { describe, expect, it } from 'vitest';
import { emitStore, formatFromPath, loadStore } from '../../../src/sops/stores/index.js';
import { flattenMetadata, unflattenMetadata, valueToString } from '../../../src/sops/stores/flatten.js';
import type { MapNode, Node } from '../../../src/sops/tree.js';
import { isWithSecretsError } from '../../../src/errors.js';

const s = (value: string) => ({ type: 'str' as const, value });
const e = (key: string, value: Node) => ({ type: 'entry' as const, key, value });
const m = (...items: MapNode['items']): MapNode => ({ type: 'map', items });

const META: MapNode = m(
  e('version', s('3.9.0')),
  e('mac', s('ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]')),
  e('lastmodified', s('2024-03-25T01:15:16Z')),
  e('age', { type: 'list', items: [m(e('recipient', s('age1a')), e('enc', s('-----BEGIN AGE ENCRYPTED FILE-----\nAAA\n-----END AGE ENCRYPTED FILE-----\n')))] }),
  e('unencrypted_suffix', s('_unencrypted')),
);

async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

describe('formatFromPath', () => {
  it('maps extensions as sops does', () => {
    expect(formatFromPath('a.yaml')).toBe('yaml');
    expect(formatFromPath('a.enc.yml')).toBe('yaml');
    expect(formatFromPath('x.json')).toBe('json');
    expect(formatFromPath('.env')).toBe('dotenv');
    expect(formatFromPath('prod.env')).toBe('dotenv');
    expect(formatFromPath('c.ini')).toBe('ini');
    expect(formatFromPath('c.txt')).toBe('binary');
    expect(formatFromPath('noext')).toBe('binary');
    expect(formatFromPath('a.YAML')).toBe('binary');
  });
});

describe('dotenv', () => {
  it('reads lines as sops does', async () => {
    const r = await loadStore('dotenv', '#c1\nA=1\n\nB=x=y\nC=line1\\nline2\n D =v\nE=\n', 't.env');
    expect(r.metadata).toBeUndefined();
    expect(r.branches).toEqual([m({ type: 'comment', value: 'c1' }, e('A', s('1')), e('B', s('x=y')), e('C', s('line1\nline2')), e(' D ', s('v')), e('E', s('')))]);
  });

  it('writes flattened, sorted metadata and reads it back', async () => {
    const text = await emitStore('dotenv', [m(e('A', s('a\nb')), { type: 'comment', value: ' note' })], META);
    expect(text).toBe(
      'A=a\\nb\n# note\n' +
        'sops_age__list_0__map_enc=-----BEGIN AGE ENCRYPTED FILE-----\\nAAA\\n-----END AGE ENCRYPTED FILE-----\\n\n' +
        'sops_age__list_0__map_recipient=age1a\n' +
        'sops_lastmodified=2024-03-25T01:15:16Z\n' +
        'sops_mac=ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n' +
        'sops_unencrypted_suffix=_unencrypted\n' +
        'sops_version=3.9.0\n',
    );
    const r = await loadStore('dotenv', text, 't.env');
    expect(r.branches).toEqual([m(e('A', s('a\nb')), { type: 'comment', value: ' note' })]);
    // Unflattening sorts keys, as sops does.
    expect(r.metadata).toEqual(
      m(
        e('age', { type: 'list', items: [m(e('enc', s('-----BEGIN AGE ENCRYPTED FILE-----\nAAA\n-----END AGE ENCRYPTED FILE-----\n')), e('recipient', s('age1a')))] }),
        e('lastmodified', s('2024-03-25T01:15:16Z')),
        e('mac', s('ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]')),
        e('unencrypted_suffix', s('_unencrypted')),
        e('version', s('3.9.0')),
      ),
    );
  });

  it('writes non-strings as sops ValToString does', async () => {
    const text = await emitStore(
      'dotenv',
      [m(e('I', { type: 'int', value: '7' }), e('F', { type: 'float', value: 3 }), e('G', { type: 'float', value: 1.5 }), e('B', { type: 'bool', value: true }), e('T', { type: 'time', value: '2024-01-01T10:00:00.5Z' }))],
      undefined,
    );
    expect(text).toBe('I=7\nF=3.0\nG=1.5\nB=true\nT=2024-01-01T10:00:00Z\n');
  });

  it('rejects a line without =, naming the line only', async () => {
    const err = await failure(loadStore('dotenv', 'A=1\nCANARY-SECRET-VALUE\n', 't.env'));
    expect(isWithSecretsError(err, 'malformed')).toBe(true);
    expect(err.message).toMatch(/^t\.env: line 2: /);
    expect(err.message).not.toContain('CANARY');
  });

  it('rejects nested values and conflicting metadata', async () => {
    await expect(emitStore('dotenv', [m(e('A', m(e('b', s('c')))))], undefined)).rejects.toThrow(/nested value/);
    const err = await failure(loadStore('dotenv', 'sops_a=1\nsops_a__map_b=2\n', 't.env'));
    expect(isWithSecretsError(err, 'malformed')).toBe(true);
    await expect(loadStore('dotenv', 'sops_a__list_1=x\n', 't.env')).rejects.toThrow(/gap/);
  });
});

describe('INI', () => {
  it('reads sections, DEFAULT, comments and quoting as ini.v1 does', async () => {
    const text = '; top comment\nk0 = v0\n[s1]\n# key comment\na = 1 ; inline\nb: two words \nc = "quoted"\nd = `has # hash`\n[s2]\n';
    const r = await loadStore('ini', text, 't.ini');
    expect(r.branches).toEqual([
      m(
        e('DEFAULT', m(e('k0', s('v0')), { type: 'comment', value: 'top comment' })),
        e('s1', m(e('a', s('1')), { type: 'comment', value: 'key comment\n; inline' }, e('b', s('two words')), e('c', s('quoted')), e('d', s('has # hash')))),
        e('s2', m()),
      ),
    ]);
  });

  it('writes aligned keys, DEFAULT without a header, the [sops] section with \\n escapes', async () => {
    const tree = m(
      e('DEFAULT', m(e('x', s('1')))),
      e('name', m({ type: 'comment', value: 'section note' }, e('first', s('a')), e('longer_key', s('b')), { type: 'comment', value: 'about longer_key' })),
    );
    const text = await emitStore('ini', [tree], META);
    expect(text).toBe(
      'x = 1\n\n; section note\n[name]\nfirst      = a\n; about longer_key\nlonger_key = b\n\n[sops]\n' +
        'age__list_0__map_enc       = -----BEGIN AGE ENCRYPTED FILE-----\\nAAA\\n-----END AGE ENCRYPTED FILE-----\\n\n' +
        'age__list_0__map_recipient = age1a\n' +
        'lastmodified               = 2024-03-25T01:15:16Z\n' +
        'mac                        = ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n' +
        'unencrypted_suffix         = _unencrypted\n' +
        'version                    = 3.9.0\n\n',
    );
    const r = await loadStore('ini', text, 't.ini');
    expect(r.metadata!.items.map((i) => (i.type === 'entry' ? i.key : '#'))).toEqual(['age', 'lastmodified', 'mac', 'unencrypted_suffix', 'version']);
  });

  it('keeps section names as written and a later [DEFAULT] as a section of its own, in file order (ini.v1 with non-unique sections)', async () => {
    const text = 'a = 1\n[ spaced ]\nb = 2\n[DEFAULT]\nc = 3\n';
    const r = await loadStore('ini', text, 't.ini');
    // The order is the MAC's order, and the names are part of each value's AAD (" spaced :b:").
    expect(r.branches).toEqual([m(e('DEFAULT', m(e('a', s('1')))), e(' spaced ', m(e('b', s('2')))), e('DEFAULT', m(e('c', s('3')))))]);
    expect(await emitStore('ini', r.branches, undefined)).toBe('a = 1\n\n[ spaced ]\nb = 2\n\n[DEFAULT]\nc = 3\n\n');
    // A [DEFAULT] header before any other section is the default section itself.
    expect((await loadStore('ini', '[DEFAULT]\na = 1\n[s]\nb = 2\n', 't.ini')).branches).toEqual([m(e('DEFAULT', m(e('a', s('1')))), e('s', m(e('b', s('2')))))]);
  });

  it('reads the """ multi-line metadata of sops 3.13.0/3.13.1', async () => {
    const text = '[s]\nk = v\n\n[sops]\nage__list_0__map_enc = """-----BEGIN AGE ENCRYPTED FILE-----\nAAA\n-----END AGE ENCRYPTED FILE-----\n"""\nversion = 3.13.1\n';
    const r = await loadStore('ini', text, 't.ini');
    const age = r.metadata!.items[0]!;
    expect(age).toEqual(e('age', { type: 'list', items: [m(e('enc', s('-----BEGIN AGE ENCRYPTED FILE-----\nAAA\n-----END AGE ENCRYPTED FILE-----\n')))] }));
  });

  it('quotes values that ini.v1 would misread', async () => {
    const section = m(e('a', s('x;y')), e('b', s(' pad ')), e('c', s('l1\nl2')));
    const tree = m(e('s', section));
    const text = await emitStore('ini', [tree], undefined);
    expect(text).toBe('[s]\na = `x;y`\nb = " pad "\nc = """l1\nl2"""\n\n');
    expect((await loadStore('ini', text, 't.ini')).branches[0]!.items[1]).toEqual(e('s', section));
  });

  it('errors name the line, never the value', async () => {
    const err = await failure(loadStore('ini', '[s]\nCANARY-SECRET-NO-EQUALS\n', 't.ini'));
    expect(err.message).toMatch(/^t\.ini: line 2: /);
    expect(err.message).not.toContain('CANARY');
    await expect(loadStore('ini', '[unclosed\n', 't.ini')).rejects.toThrow(/line 1: unclosed section/);
    await expect(emitStore('ini', [m(e('top', s('not a section')))], undefined)).rejects.toThrow(/needs sections/);
  });
});

describe('JSON', () => {
  it('keeps key order (also integer-like keys), types numbers like sops 3.13.2', async () => {
    const r = await loadStore('json', '{"b": 1, "2": 2.5, "1": -0, "big": 9223372036854775808, "e": 1e2, "s": "x", "n": null, "t": true, "l": [1, {"k": "v"}]}', 't.json');
    expect(r.branches[0]!.items.map((i) => (i.type === 'entry' ? [i.key, i.value] : i))).toEqual([
      ['b', { type: 'int', value: '1' }],
      ['2', { type: 'float', value: 2.5 }],
      ['1', { type: 'int', value: '0' }],
      ['big', { type: 'float', value: 9223372036854775808 }],
      ['e', { type: 'float', value: 100 }],
      ['s', s('x')],
      ['n', { type: 'null' }],
      ['t', { type: 'bool', value: true }],
      ['l', { type: 'list', items: [{ type: 'int', value: '1' }, m(e('k', s('v')))] }],
    ]);
  });

  it('writes like sops: tabs, Go escaping, comments dropped, sops last, trailing newline', async () => {
    const tree = m({ type: 'comment', value: 'dropped' }, e('html', s('<a href="x">&</a>\u2028')), e('f', { type: 'float', value: 1e21 }), e('g', { type: 'float', value: 1e-7 }), e('empty', m()), e('list', { type: 'list', items: [] }));
    const text = await emitStore('json', [tree], m(e('version', s('3.9.0'))));
    expect(text).toBe(
      '{\n\t"html": "\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e\\u2028",\n\t"f": 1e+21,\n\t"g": 1e-7,\n\t"empty": {},\n\t"list": [],\n\t"sops": {\n\t\t"version": "3.9.0"\n\t}\n}\n',
    );
    expect(await emitStore('json', [m(e('a', s('b')))], undefined, { indent: 2 })).toBe('{\n  "a": "b"\n}\n');
  });

  it('refuses NaN and infinities, naming the key', async () => {
    const err = await failure(emitStore('json', [m(e('x', m(e('f', { type: 'float', value: NaN }))))], undefined));
    expect(isWithSecretsError(err, 'usage')).toBe(true);
    expect(err.message).toContain('["x"]["f"]');
    expect((err as { hint?: string }).hint).toMatch(/--output-type/);
  });

  const bad: Array<[string, RegExp]> = [
    ['[1, 2]', /top level is not a JSON object/],
    ['', /empty input/],
    ['{"a": 1,}', /line 1, column \d+: invalid JSON/],
    ['{"a": "CANARY-SECRET\n"}', /control character/],
    ['{"a": 1} trailing', /after the top-level object/],
    ['{"a": 1, "a": 2}', /duplicate key/],
    ['{"a": 1e999}', /out of the range/],
    ['{\n"a":\n  "CANARY-SECRET', /line 3, column \d+: invalid JSON: unterminated string/],
  ];
  for (const [text, re] of bad) {
    it(`rejects ${JSON.stringify(text)}`, async () => {
      const err = await failure(loadStore('json', text, 't.json'));
      expect(isWithSecretsError(err, 'malformed'), String(err)).toBe(true);
      expect(err.message).toMatch(re);
      expect(err.message).not.toContain('CANARY');
    });
  }
});

describe('binary', () => {
  it('plaintext becomes data; raw data out without a newline', async () => {
    const r = await loadStore('binary', 'raw bytes\nno newline', 'f.bin');
    expect(r).toEqual({ branches: [m(e('data', s('raw bytes\nno newline')))], metadata: undefined });
    expect(await emitStore('binary', r.branches, undefined)).toBe('raw bytes\nno newline');
  });

  it('an encrypted envelope round-trips; plain mode never reads the envelope', async () => {
    const text = await emitStore('binary', [m(e('data', s('ENC[...]')))], m(e('version', s('3.9.0'))));
    expect(text).toBe('{\n\t"data": "ENC[...]",\n\t"sops": {\n\t\t"version": "3.9.0"\n\t}\n}\n');
    const r = await loadStore('binary', text, 'f.bin');
    expect(r.metadata).toEqual(m(e('version', s('3.9.0'))));
    const p = await loadStore('binary', text, 'f.bin', { binary: 'plain' });
    expect(p.metadata).toBeUndefined();
    expect(p.branches[0]).toEqual(m(e('data', s(text))));
  });

  it('without a string data key, suggests --output-type', async () => {
    const err = await failure(emitStore('binary', [m(e('other', s('x')))], undefined));
    expect(err.message).toMatch(/no 'data' key/);
    expect((err as { hint?: string }).hint).toMatch(/--output-type/);
    await expect(emitStore('binary', [m(e('data', { type: 'int', value: '1' }))], undefined)).rejects.toThrow(/does not hold a string/);
  });
});

describe('hostile flattened metadata', () => {
  it('refuses a metadata key nested deeper than any store allows, instead of overflowing the stack', async () => {
    const deep = `sops_${'__map_a'.repeat(4000)}=1\n`;
    await expect(loadStore('dotenv', `A=1\n${deep}`, 'x.env')).rejects.toThrow(/nested more than 1000 levels deep/);
    await expect(loadStore('ini', `[s]\nk = v\n[sops]\nx${'__map_a'.repeat(4000)} = 1\n`, 'x.ini')).rejects.toThrow(expect.objectContaining({ code: 'malformed' }));
  });
});

describe('flatten helpers', () => {
  it('valueToString matches Go ValToString', () => {
    expect(valueToString({ type: 'float', value: 1e6 })).toBe('1E+06');
    expect(valueToString({ type: 'float', value: 123456 })).toBe('123456.0');
    expect(valueToString({ type: 'float', value: 0.5 })).toBe('0.5');
    expect(valueToString({ type: 'bool', value: false })).toBe('false');
  });

  it('flatten then unflatten gives the sorted tree', () => {
    const flat = flattenMetadata(META, 'sops_');
    expect(flat.map((f) => f.key)).toEqual([
      'sops_age__list_0__map_enc',
      'sops_age__list_0__map_recipient',
      'sops_lastmodified',
      'sops_mac',
      'sops_unencrypted_suffix',
      'sops_version',
    ]);
    const back = unflattenMetadata(
      flat.map((f) => ({ key: f.key.slice(5), value: f.value })),
      'x',
    );
    expect(back.items.map((i) => (i.type === 'entry' ? i.key : ''))).toEqual(['age', 'lastmodified', 'mac', 'unencrypted_suffix', 'version']);
  });
});
