// The child environment: secrets win (or not), own inputs and outer launches' secrets removed, pristine set, marker.
import { describe, expect, it } from 'vitest';
import { buildChildEnv, readInjectedMarker } from '../../src/launch/child-env.js';

const s = (name: string, value: string) => ({ name, value, source: `test ${name}` });

describe('buildChildEnv', () => {
  const parent = { PATH: '/bin', HOME: '/h', TOKEN: 'parent', OTHER: 'o', SOPS_AGE_KEY: 'AGE-SECRET-KEY-1X', SOPS_AGE_KEY_FILE: '/k', LC_ALL: 'C', UNSET: undefined };

  it('adds secrets over the parent environment and records their names in the marker', () => {
    const r = buildChildEnv({ parentEnv: parent, secrets: [s('TOKEN', 'secret'), s('NEW', 'n')], pristine: false, keepExisting: false, keepEnv: [] });
    expect(r.env).toEqual({ PATH: '/bin', HOME: '/h', TOKEN: 'secret', OTHER: 'o', LC_ALL: 'C', NEW: 'n', WITH_SECRETS_INJECTED: 'TOKEN,NEW' });
    expect(r.collisions).toEqual(['TOKEN']);
    expect(r.injected).toEqual(['TOKEN', 'NEW']);
  });

  it('keeps the parent value with keepExisting and does not mark it as injected', () => {
    const r = buildChildEnv({ parentEnv: parent, secrets: [s('TOKEN', 'secret'), s('NEW', 'n')], pristine: false, keepExisting: true, keepEnv: [] });
    expect(r.env['TOKEN']).toBe('parent');
    expect(r.env['WITH_SECRETS_INJECTED']).toBe('NEW');
    expect(r.collisions).toEqual(['TOKEN']);
  });

  it('removes what an outer launch injected, so a nested program gets only its own secrets', () => {
    const outer = { ...parent, OPENAI: 'outer-secret', WITH_SECRETS_INJECTED: 'OPENAI,TOKEN' };
    const r = buildChildEnv({ parentEnv: outer, secrets: [s('GH', 'g')], pristine: false, keepExisting: false, keepEnv: [] });
    expect(r.env).not.toHaveProperty('OPENAI');
    expect(r.env).not.toHaveProperty('TOKEN');
    expect(r.env['GH']).toBe('g');
    expect(r.env['WITH_SECRETS_INJECTED']).toBe('GH');
    expect(r.removedOuter).toEqual(['OPENAI', 'TOKEN']);
  });

  it('drops the marker when nothing is injected, and strips SOPS_AGE_* unless kept', () => {
    const r = buildChildEnv({ parentEnv: { ...parent, WITH_SECRETS_INJECTED: 'X' }, secrets: [], pristine: false, keepExisting: false, keepEnv: ['SOPS_AGE_KEY_FILE'] });
    expect(r.env).not.toHaveProperty('WITH_SECRETS_INJECTED');
    expect(r.env).not.toHaveProperty('SOPS_AGE_KEY');
    expect(r.env['SOPS_AGE_KEY_FILE']).toBe('/k');
  });

  it('passes only the pristine set with pristine', () => {
    const r = buildChildEnv({ parentEnv: { ...parent, TERM: 'xterm', LC_CTYPE: 'x', DISPLAY: ':0', EDITOR: 'vi' }, secrets: [s('A', '1')], pristine: true, keepExisting: false, keepEnv: [] });
    expect(Object.keys(r.env).sort()).toEqual(['A', 'DISPLAY', 'HOME', 'LC_ALL', 'LC_CTYPE', 'PATH', 'TERM', 'WITH_SECRETS_INJECTED']);
  });

  it('refuses a NUL in a value without showing the value', () => {
    expect(() => buildChildEnv({ parentEnv: {}, secrets: [s('A', 'canary\0x')], pristine: false, keepExisting: false, keepEnv: [] })).toThrow(/A \(from test A\) contains a NUL byte/);
    try {
      buildChildEnv({ parentEnv: {}, secrets: [s('A', 'canary\0x')], pristine: false, keepExisting: false, keepEnv: [] });
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('canary');
    }
  });

  it('reads only valid names from the marker', () => {
    expect(readInjectedMarker('A,B=1,,1C,_d')).toEqual(['A', '_d']);
    expect(readInjectedMarker(undefined)).toEqual([]);
  });
  it('treats __proto__ as an ordinary variable name', () => {
    const r = buildChildEnv({ parentEnv: JSON.parse('{"__proto__": "p", "A": "a"}') as Record<string, string>, secrets: [s('constructor', 'c')], pristine: false, keepExisting: false, keepEnv: [] });
    expect(Object.keys(r.env).sort()).toEqual(['A', 'WITH_SECRETS_INJECTED', '__proto__', 'constructor']);
    expect({ ...r.env }['__proto__']).toBe('p');
    expect(Object.hasOwn({ ...r.env }, '__proto__')).toBe(true);
  });
});
