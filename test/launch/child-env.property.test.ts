// Properties of the child environment and of argument passing, over generated inputs (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLaunchArgs } from '../../src/cli/launch-command.js';
import { buildChildEnv } from '../../src/launch/child-env.js';
import { INJECTED_MARKER, OWN_INPUTS } from '../../src/launch/variables.js';

const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
const value = fc.string({ maxLength: 20 }).filter((v) => !v.includes('\0'));
const parentEnv = fc.dictionary(fc.oneof(name, fc.constantFrom(...OWN_INPUTS, INJECTED_MARKER)), value, { maxKeys: 12 });
const secrets = fc.uniqueArray(fc.record({ name, value, source: fc.constant('test') }), { selector: (s) => s.name, maxLength: 8 });

describe('buildChildEnv properties', () => {
  it('secrets arrive exactly (unless kept), own inputs never do, and the marker lists exactly the injected names', () => {
    fc.assert(
      fc.property(parentEnv, secrets, fc.boolean(), fc.boolean(), (parent, list, pristine, keepExisting) => {
        const r = buildChildEnv({ parentEnv: parent, secrets: list, pristine, keepExisting, keepEnv: [] });
        for (const own of OWN_INPUTS) {
          if (!list.some((s) => s.name === own)) expect(r.env).not.toHaveProperty(own);
        }
        for (const s of list) {
          if (!r.collisions.includes(s.name) || !keepExisting) expect(r.env[s.name]).toBe(s.value);
        }
        const marker = r.env[INJECTED_MARKER];
        expect(marker === undefined ? [] : marker.split(',')).toEqual(r.injected);
        // Nothing appears that is neither the parent's nor a secret nor the marker.
        for (const k of Object.keys(r.env)) expect(k in parent || list.some((s) => s.name === k) || k === INJECTED_MARKER).toBe(true);
      }),
    );
  });

  it('an outer launch\'s injected names never survive into a nested launch that does not set them', () => {
    fc.assert(
      fc.property(secrets, secrets, (outer, inner) => {
        const first = buildChildEnv({ parentEnv: { PATH: '/bin' }, secrets: outer, pristine: false, keepExisting: false, keepEnv: [] });
        const second = buildChildEnv({ parentEnv: first.env, secrets: inner, pristine: false, keepExisting: false, keepEnv: [] });
        for (const s of outer) {
          if (!inner.some((i) => i.name === s.name) && s.name !== 'PATH') expect(second.env).not.toHaveProperty(s.name);
        }
      }),
    );
  });
});

describe('parseLaunchArgs properties', () => {
  it('passes every argument after CMD through untouched, whatever it looks like', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 12 }), { maxLength: 10 }), (rest) => {
        expect(parseLaunchArgs(['-p', 'x', 'cmd', ...rest], 'launch')).toMatchObject({ command: 'cmd', args: rest });
        expect(parseLaunchArgs(['run', '--', 'cmd', ...rest], 'run')).toMatchObject({ command: 'cmd', args: rest });
      }),
    );
  });
});
