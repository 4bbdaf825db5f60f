// Setting and removing values by key path in a decrypted tree: types kept, comments and order kept, clear errors.
import { describe, expect, it } from 'vitest';
import { formatKeyPath, hasValue, listLeafPaths, removeValue, setValue } from '../../src/sops/edit-tree.js';
import { isWithSecretsError } from '../../src/errors.js';
import type { MapNode } from '../../src/sops/tree.js';

const CANARY = 'canary-7f3a9c-do-not-print';

const doc: MapNode = {
  type: 'map',
  items: [
    { type: 'comment', value: ' top comment' },
    { type: 'entry', key: 'name', value: { type: 'str', value: 'old' } },
    { type: 'entry', key: 'port', value: { type: 'int', value: '8080' } },
    { type: 'entry', key: 'ratio', value: { type: 'float', value: 0.5 } },
    { type: 'entry', key: 'on', value: { type: 'bool', value: true } },
    { type: 'entry', key: 'when', value: { type: 'time', value: '2024-01-02T03:04:05Z' } },
    { type: 'entry', key: 'nothing', value: { type: 'null' } },
    {
      type: 'entry',
      key: 'openai',
      value: {
        type: 'map',
        items: [
          { type: 'comment', value: ' inner' },
          { type: 'entry', key: 'api_key', value: { type: 'str', value: 'k' } },
        ],
      },
    },
    {
      type: 'entry',
      key: 'list',
      value: { type: 'list', items: [{ type: 'str', value: 'a' }, { type: 'comment', value: ' c' }, { type: 'int', value: '2' }] },
    },
  ],
};

const get = (m: MapNode, key: string) => m.items.find((i) => i.type === 'entry' && i.key === key);

describe('setValue', () => {
  it('keeps the type of an existing value', () => {
    const r = setValue(doc, ['port'], '9090');
    expect(r.created).toBe(false);
    expect(get(r.branch, 'port')).toEqual({ type: 'entry', key: 'port', value: { type: 'int', value: '9090' } });
    expect(get(setValue(doc, ['ratio'], '1e3').branch, 'ratio')).toMatchObject({ value: { type: 'float', value: 1000 } });
    expect(get(setValue(doc, ['on'], 'false').branch, 'on')).toMatchObject({ value: { type: 'bool', value: false } });
    expect(get(setValue(doc, ['when'], '2025-05-05T00:00:00.500+00:00').branch, 'when')).toMatchObject({
      value: { type: 'time', value: '2025-05-05T00:00:00.5Z' },
    });
    expect(get(setValue(doc, ['nothing'], 'x').branch, 'nothing')).toMatchObject({ value: { type: 'str', value: 'x' } });
  });

  it('refuses a value that does not fit the existing type, without quoting it', () => {
    for (const key of ['port', 'ratio', 'on', 'when']) {
      const err = (() => {
        try {
          setValue(doc, [key], CANARY);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(isWithSecretsError(err, 'usage')).toBe(true);
      expect(String((err as Error).message)).not.toContain(CANARY);
      expect(String((err as Error).message)).toContain(key);
    }
  });

  it('replaces in place: order and comments kept', () => {
    const r = setValue(doc, ['openai', 'api_key'], 'new');
    expect(r.branch.items.map((i) => (i.type === 'entry' ? i.key : '#'))).toEqual(doc.items.map((i) => (i.type === 'entry' ? i.key : '#')));
    const openai = get(r.branch, 'openai');
    expect(openai).toMatchObject({ value: { items: [{ type: 'comment', value: ' inner' }, { key: 'api_key', value: { type: 'str', value: 'new' } }] } });
    // The input is not modified.
    expect(get(doc, 'openai')).toMatchObject({ value: { items: [{}, { value: { value: 'k' } }] } });
  });

  it('appends a new key as a string, creating maps on the way', () => {
    const r = setValue(doc, ['github', 'token'], '123');
    expect(r.created).toBe(true);
    expect(r.branch.items.at(-1)).toEqual({
      type: 'entry',
      key: 'github',
      value: { type: 'map', items: [{ type: 'entry', key: 'token', value: { type: 'str', value: '123' } }] },
    });
  });

  it('sets a list element by index (comments do not count)', () => {
    const r = setValue(doc, ['list', 1], '3');
    expect(get(r.branch, 'list')).toMatchObject({ value: { items: [{ value: 'a' }, { type: 'comment' }, { type: 'int', value: '3' }] } });
    expect(() => setValue(doc, ['list', 5], 'x')).toThrow('no value at ["list"][5]');
  });

  it('refuses to overwrite a map or list, or to go below a leaf', () => {
    expect(() => setValue(doc, ['openai'], 'x')).toThrow(/holds a map/);
    expect(() => setValue(doc, ['list'], 'x')).toThrow(/holds a list/);
    const err = (() => {
      try {
        setValue(doc, ['name', 'sub'], 'x');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isWithSecretsError(err, 'value-not-scalar')).toBe(true);
  });
});

describe('removeValue', () => {
  it('removes a leaf and keeps comments and other keys', () => {
    const out = removeValue(doc, ['openai', 'api_key']);
    expect(get(out, 'openai')).toMatchObject({ value: { items: [{ type: 'comment', value: ' inner' }] } });
    expect(out.items).toHaveLength(doc.items.length);
    expect(hasValue(out, ['openai', 'api_key'])).toBe(false);
    expect(hasValue(doc, ['openai', 'api_key'])).toBe(true);
  });

  it('removes a list element and whole subtrees', () => {
    expect(get(removeValue(doc, ['list', 0]), 'list')).toMatchObject({ value: { items: [{ type: 'comment' }, { type: 'int' }] } });
    expect(hasValue(removeValue(doc, ['openai']), ['openai'])).toBe(false);
  });

  it('says key-not-found for a missing path', () => {
    const err = (() => {
      try {
        removeValue(doc, ['nope', 'x']);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isWithSecretsError(err, 'key-not-found')).toBe(true);
    expect((err as Error).message).toContain('nope');
  });
});

describe('listLeafPaths / formatKeyPath', () => {
  it('lists every leaf in document order', () => {
    expect(listLeafPaths(doc).map(formatKeyPath)).toEqual([
      'name',
      'port',
      'ratio',
      'on',
      'when',
      'nothing',
      'openai.api_key',
      '["list"][0]',
      '["list"][1]',
    ]);
  });
  it('uses the extract form for keys that are not plain words', () => {
    expect(formatKeyPath(['a.b', 'c'])).toBe('["a.b"]["c"]');
    expect(formatKeyPath(['with space'])).toBe('["with space"]');
  });
});
