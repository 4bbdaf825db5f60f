// Leaf values as sops exec-env prints them.
import { describe, expect, it } from 'vitest';
import { formatSopsFloat, stripOneNewline, toEnvValue } from '../../src/launch/env-value.js';

describe('formatSopsFloat (Go FormatFloat G/-1 plus sops ValToString .0 rule)', () => {
  const cases: Array<[number, string]> = [
    [0, '0.0'],
    [-0, '-0.0'],
    [1, '1.0'],
    [1.5, '1.5'],
    [100, '100.0'],
    [123456, '123456.0'],
    [999999, '999999.0'],
    [1e6, '1E+06'],
    [1234567, '1.234567E+06'],
    [123456.789, '123456.789'],
    [0.0001, '0.0001'],
    [0.00001, '1E-05'],
    [2.5e-5, '2.5E-05'],
    [1e21, '1E+21'],
    [-2.5, '-2.5'],
    [0.1, '0.1'],
    [1.7976931348623157e308, '1.7976931348623157E+308'],
    [5e-324, '5E-324'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, '+Inf'],
    [Number.NEGATIVE_INFINITY, '-Inf'],
  ];
  it.each(cases)('%s → %s', (v, want) => expect(formatSopsFloat(v)).toBe(want));
});

describe('toEnvValue', () => {
  it('prints strings, ints, bools and times as exec-env does', () => {
    expect(toEnvValue({ type: 'str', value: ' a b\n' }, 'X')).toBe(' a b\n');
    expect(toEnvValue({ type: 'int', value: '9007199254740993' }, 'X')).toBe('9007199254740993');
    expect(toEnvValue({ type: 'bool', value: true }, 'X')).toBe('true');
    expect(toEnvValue({ type: 'bool', value: false }, 'X')).toBe('false');
    expect(toEnvValue({ type: 'time', value: '2024-01-02T03:04:05.123456789Z' }, 'X')).toBe('2024-01-02T03:04:05Z');
    expect(toEnvValue({ type: 'time', value: '2024-01-02T03:04:05.5+02:00' }, 'X')).toBe('2024-01-02T03:04:05+02:00');
  });
  it('refuses maps, lists and null, naming the variable and never the value', () => {
    const map = { type: 'map', items: [{ type: 'entry', key: 'k', value: { type: 'str', value: 'canary' } }] } as const;
    expect(() => toEnvValue(map, 'TOKEN (a.b in /s.yaml)')).toThrow(/^TOKEN \(a\.b in \/s\.yaml\) is a map, not a single value$/);
    // From envFrom, the advice is about the document, not about envFrom.
    expect(() => toEnvValue(map, 'K (from /d.yaml)', true)).toThrow(expect.objectContaining({ hint: expect.stringMatching(/^envFrom takes a flat document/) }));
    expect(() => toEnvValue(map, 'K (a in /s.yaml)')).toThrow(expect.objectContaining({ hint: expect.stringMatching(/or use envFrom for a flat document$/) }));
    expect(() => toEnvValue({ type: 'list', items: [] }, 'T')).toThrow(/T is a list/);
    expect(() => toEnvValue({ type: 'null' }, 'T')).toThrow(/T is null/);
  });
  it('strips exactly one trailing newline', () => {
    expect(stripOneNewline('tok\n')).toBe('tok');
    expect(stripOneNewline('tok\n\n')).toBe('tok\n');
    expect(stripOneNewline('tok')).toBe('tok');
  });
});
