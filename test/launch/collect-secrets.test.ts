// Secret collection: each document opened once, env over envFrom, later envFrom over earlier, errors in context.
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../src/config/config-types.js';
import { WithSecretsError } from '../../src/errors.js';
import { collectSecrets, type SecretReaders } from '../../src/launch/collect-secrets.js';
import { lookupPath, parseKeyPath } from '../../src/sops/key-path.js';
import { entry, map, str, type MapNode } from '../../src/sops/tree.js';

const docs: Record<string, MapNode> = {
  '/a.yaml': map([entry('x', str('ax')), entry('y', str('ay')), entry('n', { type: 'int', value: '7' })]),
  '/env1.json': map([entry('A', str('1')), entry('B', str('1')), { type: 'comment', value: ' c' }]),
  '/env2.json': map([entry('B', str('2')), entry('C', str('2'))]),
};

/** Readers over in-memory documents that count every open and read. */
function countingReaders() {
  const calls: string[] = [];
  const readers: SecretReaders = {
    async openSops(file) {
      calls.push(`sops ${file}`);
      const d = docs[file];
      if (d === undefined) throw new WithSecretsError('io', `${file}: file not found`);
      return [d];
    },
    lookupKey: (branches, key, file) => lookupPath(branches[0]!, parseKeyPath(key), file),
    async decryptAge(file) {
      calls.push(`age ${file}`);
      return new TextEncoder().encode('age-value\n');
    },
    async readFile(file) {
      calls.push(`file ${file}`);
      return new TextEncoder().encode('file-value\n');
    },
    async readKeyring(name) {
      calls.push(`keyring ${name}`);
      return 'kr';
    },
  };
  return { calls, readers };
}

const base: Omit<Profile, 'env' | 'envFrom'> = { name: 'p', pristine: false, allowDangerous: [], keepEnv: [] };

describe('collectSecrets', () => {
  it('opens each document and reads each file once, however many variables use it', async () => {
    const { calls, readers } = countingReaders();
    const profile: Profile = {
      ...base,
      envFrom: [],
      env: [
        { name: 'X', ref: { kind: 'sops', file: '/a.yaml', key: 'x' } },
        { name: 'Y', ref: { kind: 'sops', file: '/a.yaml', key: 'y' } },
        { name: 'N', ref: { kind: 'sops', file: '/a.yaml', key: 'n' } },
        { name: 'G1', ref: { kind: 'age', file: '/t.age' } },
        { name: 'G2', ref: { kind: 'age', file: '/t.age' } },
        { name: 'F1', ref: { kind: 'file', file: '/f' } },
        { name: 'F2', ref: { kind: 'file', file: '/f' } },
        { name: 'K', ref: { kind: 'keyring', name: 'k' } },
      ],
    };
    const out = await collectSecrets(profile, readers);
    expect(out.map((s) => [s.name, s.value])).toEqual([
      ['X', 'ax'],
      ['Y', 'ay'],
      ['N', '7'],
      ['G1', 'age-value'],
      ['G2', 'age-value'],
      ['F1', 'file-value'],
      ['F2', 'file-value'],
      ['K', 'kr'],
    ]);
    expect(calls).toEqual(['sops /a.yaml', 'age /t.age', 'file /f', 'keyring k']);
    expect(out[0]!.source).toBe('/a.yaml: x');
  });

  it('takes every top-level key of envFrom documents (later ones win), and env wins over them', async () => {
    const { calls, readers } = countingReaders();
    const profile: Profile = {
      ...base,
      envFrom: [{ file: '/env1.json' }, { file: '/env2.json' }],
      env: [{ name: 'A', ref: { kind: 'sops', file: '/a.yaml', key: 'x' } }],
    };
    const out = await collectSecrets(profile, readers);
    expect(Object.fromEntries(out.map((s) => [s.name, s.value]))).toEqual({ A: 'ax', B: '2', C: '2' });
    expect(out.find((s) => s.name === 'B')!.source).toBe('/env2.json: B (envFrom)');
    expect(calls).toEqual(['sops /env1.json', 'sops /env2.json', 'sops /a.yaml']);
  });

  it('puts the variable and profile into a reader\'s error, keeping its code', async () => {
    const { readers } = countingReaders();
    const profile: Profile = { ...base, envFrom: [], env: [{ name: 'Q', ref: { kind: 'sops', file: '/a.yaml', key: 'nope' } }] };
    await expect(collectSecrets(profile, readers)).rejects.toMatchObject({ code: 'key-not-found', message: expect.stringMatching(/nope not found .*\(needed for Q in profile p\)$/) });
    const missing: Profile = { ...base, envFrom: [{ file: '/gone.json' }], env: [] };
    await expect(collectSecrets(missing, readers)).rejects.toMatchObject({ code: 'io', message: '/gone.json: file not found (needed for envFrom of profile p)' });
  });
});
