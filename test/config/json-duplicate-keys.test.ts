// The duplicate-key scan of JSON configs: exact on real JSON, and never fooled by strings that look like structure.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findDuplicateJsonKey } from '../../src/config/json-duplicate-keys.js';

/** The check as the config loader runs it: on a text and what JSON.parse made of it. */
const dup = (text: string) => findDuplicateJsonKey(text, JSON.parse(text));

describe('findDuplicateJsonKey', () => {
  it('finds a repeated key in the same object, at its second line', () => {
    expect(dup('{"a": 1,\n "b": 2,\n "a": 3}')).toEqual({ key: 'a', line: 3 });
    expect(dup('{"x": {"a": 1, "a": 2}}')).toEqual({ key: 'a', line: 1 });
    expect(dup('{"l": [{"a": 1}, {"a": 1, "\\u0061": 2}]}')).toEqual({ key: 'a', line: 1 });
  });

  it('allows the same key in different objects, and keys that equal values or appear inside strings', () => {
    expect(dup('{"a": {"a": "a"}, "b": {"a": ["a", "a"]}}')).toBeUndefined();
    expect(dup('{"s": "\\"a\\": {\\"a\\": 1}", "a": "x: {", "t": "}", "u": "["}')).toBeUndefined();
    expect(dup('{"a\\\\": 1, "a": 2}')).toBeUndefined();
    expect(dup('[{"a": 1}, {"a": 2}]')).toBeUndefined();
  });

  it('agrees with JSON.parse on generated documents: none in what JSON.stringify writes, one when a key is written twice', () => {
    const key = fc.string({ maxLength: 6 });
    const doc = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.constant(null), tie('object'), fc.array(tie('value'), { maxLength: 3 })),
      object: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    })).object;
    fc.assert(
      fc.property(doc, key, fc.string(), (obj, k, v) => {
        expect(dup(JSON.stringify(obj, null, 1))).toBeUndefined();
        const text = `{${JSON.stringify(k)}: 1, "inner": ${JSON.stringify(obj)}, ${JSON.stringify(k)}: ${JSON.stringify(v)}}`;
        if (k === 'inner') return;
        expect(dup(text)?.key).toBe(k);
      }),
    );
  });
});
