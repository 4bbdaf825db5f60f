// Re-wrapping and rotation with Shamir key groups, post-quantum recipients and files that also carry pgp/kms keys.
// (PQ and Shamir have no independent reader here: age 1.1.1 and sops-age lack them; checked with age-encryption and our reader.)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateNewIdentity } from '../../src/age/new-identity.js';
import { staticProvider } from '../../src/age/provider.js';
import { parseAgeSecretKey } from '../../src/age/secret-key.js';
import { isWithSecretsError } from '../../src/errors.js';
import { openSopsFile } from '../../src/sops/open.js';
import { createSopsFile } from '../../src/sops/save.js';
import { addFileRecipient, readStructure, removeFileRecipient, rotateFile, setSecret } from '../../src/sops/secret-ops.js';
import { ageKeygen } from '../helpers/sops-fixture.js';

let dir: string;
const keys = Array.from({ length: 4 }, () => ageKeygen());
const provider = (...secrets: string[]) => staticProvider([{ label: 'test', identities: secrets.map((s) => parseAgeSecretKey(s)!) }]);
const one = { type: 'map', items: [{ type: 'entry', key: 'token', value: { type: 'str', value: 'v1' } }] } as const;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ws-rewrap-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Shamir key groups', () => {
  it('2 of 3 groups: set, add to a group, rotate; any two groups open it, one does not', async () => {
    const path = join(dir, 'shamir.yaml');
    await createSopsFile(path, { format: 'yaml', branches: [one], keyGroups: [[keys[0]!.recipient], [keys[1]!.recipient], [keys[2]!.recipient]], shamirThreshold: 2 });
    expect(readFileSync(path, 'utf8')).toContain('shamir_threshold: 2');
    await setSecret(path, ['token'], 'v2', { identities: provider(keys[0]!.secret, keys[1]!.secret) });
    expect(await addFileRecipient(path, keys[3]!.recipient, { identities: provider(keys[1]!.secret, keys[2]!.secret), group: 2 })).toBe(true);
    await rotateFile(path, { identities: provider(keys[0]!.secret, keys[2]!.secret) });
    const { metadata } = await readStructure(path);
    expect(metadata.shamirThreshold).toBe(2);
    expect(metadata.keyGroups.map((g) => g.age.map((k) => k.recipient))).toEqual([[keys[0]!.recipient], [keys[1]!.recipient], [keys[2]!.recipient, keys[3]!.recipient]]);
    // Group 3 opened by its new member, with group 1.
    const opened = await openSopsFile(path, { identities: provider(keys[0]!.secret, keys[3]!.secret) });
    expect(opened.branches[0]!.items).toEqual([{ type: 'entry', key: 'token', value: { type: 'str', value: 'v2' } }]);
    const err = await openSopsFile(path, { identities: provider(keys[1]!.secret) }).catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'no-identity')).toBe(true);
  });

  it('refuses to empty a group', async () => {
    const path = join(dir, 'shamir-empty.yaml');
    await createSopsFile(path, { format: 'yaml', branches: [one], keyGroups: [[keys[0]!.recipient], [keys[1]!.recipient]] });
    const before = readFileSync(path);
    const err = await removeFileRecipient(path, keys[1]!.recipient, { identities: provider(keys[0]!.secret, keys[1]!.secret), rotate: true }).catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'usage')).toBe(true);
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});

describe('post-quantum recipients', () => {
  it('adds an age1pq1 recipient; its hybrid identity alone opens the file; rotation keeps it', async () => {
    const pq = await generateNewIdentity({ postQuantum: true });
    const pqSecret = pq.text.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-PQ-1'))!;
    const path = join(dir, 'pq.json');
    await createSopsFile(path, { format: 'json', branches: [one], keyGroups: [[keys[0]!.recipient]] });
    expect(await addFileRecipient(path, pq.recipient, { identities: provider(keys[0]!.secret) })).toBe(true);
    await rotateFile(path, { identities: provider(pqSecret) });
    const opened = await openSopsFile(path, { identities: provider(pqSecret) });
    expect(opened.branches[0]!.items).toEqual(one.items);
    expect(readFileSync(path, 'utf8')).toContain(pq.recipient);
  });
});

describe('files that also have pgp/kms keys', () => {
  it('set and --no-rotate keep the other keys; rotation and removal with rotation are refused', async () => {
    const path = join(dir, 'mixed.yaml');
    await createSopsFile(path, { format: 'yaml', branches: [one], keyGroups: [[keys[0]!.recipient, keys[1]!.recipient]] });
    // Add a pgp entry as another sops user would have: the metadata keeps it as it is.
    const text = readFileSync(path, 'utf8').replace('sops:\n', 'sops:\n    pgp:\n        - created_at: "2024-01-01T00:00:00Z"\n          enc: opaque\n          fp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n');
    writeFileSync(path, text);
    await setSecret(path, ['token'], 'v3', { identities: provider(keys[0]!.secret) });
    expect(readFileSync(path, 'utf8')).toContain('fp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4');
    await removeFileRecipient(path, keys[1]!.recipient, { identities: provider(keys[0]!.secret), rotate: false });
    expect(readFileSync(path, 'utf8')).toContain('fp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4');
    const before = readFileSync(path);
    const err = await rotateFile(path, { identities: provider(keys[0]!.secret) }).catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'usage')).toBe(true);
    expect((err as Error).message).toContain('pgp');
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});
