// The writer core on real files: create, set (types kept), remove, list, re-wrap, rotate; unchanged values keep their ciphertext.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticProvider, type IdentityProvider } from '../../src/age/provider.js';
import { parseAgeSecretKey } from '../../src/age/secret-key.js';
import { isWithSecretsError } from '../../src/errors.js';
import { openSopsFile } from '../../src/sops/open.js';
import { createSopsFile } from '../../src/sops/save.js';
import {
  addFileRecipient,
  listSecretNames,
  readStructure,
  removeFileRecipient,
  removeSecret,
  rotateFile,
  setSecret,
} from '../../src/sops/secret-ops.js';
import { loadStore } from '../../src/sops/stores/index.js';
import type { MapNode } from '../../src/sops/tree.js';
import { ageKeygen } from '../helpers/sops-fixture.js';

const CANARY = 'canary-4d1e-never-printed';

let dir: string;
let alice: { secret: string; recipient: string };
let bob: { secret: string; recipient: string };

const provider = (...secrets: string[]): IdentityProvider =>
  staticProvider([{ label: 'test keys', identities: secrets.map((s) => parseAgeSecretKey(s)!) }]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ws-ops-'));
  alice = ageKeygen();
  bob = ageKeygen();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function plainOf(path: string, ...secrets: string[]): Promise<MapNode[]> {
  return (await openSopsFile(path, { identities: provider(...(secrets.length ? secrets : [alice.secret])) })).branches;
}

const yamlSource = [
  '# top comment',
  'name: old',
  'port: 8080',
  'ratio: 0.5',
  'enabled: true',
  'when: 2024-01-02T03:04:05Z',
  'openai:',
  '    # the key',
  '    api_key: sk-1',
  'plain_unencrypted: visible',
  'list:',
  '    - a',
  '    - 2',
  '',
].join('\n');

async function newYaml(name: string): Promise<string> {
  const path = join(dir, name);
  const { branches } = await loadStore('yaml', yamlSource, 'source');
  await createSopsFile(path, { format: 'yaml', branches, keyGroups: [[alice.recipient]] });
  return path;
}

describe('createSopsFile', () => {
  it('writes a 0600 sops file that opens, with comments and order', async () => {
    const path = await newYaml('create.yaml');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('plain_unencrypted: visible');
    expect(text).not.toContain('sk-1');
    expect(text).toMatch(/version: 3\.13\.2/);
    const [doc] = await plainOf(path);
    const { branches: expected } = await loadStore('yaml', yamlSource, 'source');
    expect(doc).toEqual(expected[0]);
  });

  it('never replaces an existing file', async () => {
    const path = await newYaml('exists.yaml');
    const before = readFileSync(path);
    const err = await createSopsFile(path, { format: 'yaml', branches: [{ type: 'map', items: [] }], keyGroups: [[alice.recipient]] }).catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'exists')).toBe(true);
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});

describe('setSecret / removeSecret', () => {
  it('sets a new key as a string and keeps every other value byte-identical', async () => {
    const path = await newYaml('set.yaml');
    const before = readFileSync(path, 'utf8');
    const r = await setSecret(path, ['github', 'token'], CANARY, { identities: provider(alice.secret) });
    expect(r).toMatchObject({ created: true, fileCreated: false });
    const after = readFileSync(path, 'utf8');
    expect(after).not.toContain(CANARY);
    // Unchanged values keep their exact ciphertext (sops' stash), so only the new key, lastmodified and mac differ.
    const encLines = (t: string) => t.split('\n').filter((l) => l.includes('ENC[') && !l.includes('mac:'));
    for (const line of encLines(before)) expect(after).toContain(line);
    const [doc] = await plainOf(path);
    const github = doc!.items.find((i) => i.type === 'entry' && i.key === 'github');
    expect(github).toEqual({ type: 'entry', key: 'github', value: { type: 'map', items: [{ type: 'entry', key: 'token', value: { type: 'str', value: CANARY } }] } });
  });

  it('setting the same value again writes nothing', async () => {
    const path = await newYaml('same.yaml');
    await setSecret(path, ['name'], 'v', { identities: provider(alice.secret) });
    const before = readFileSync(path);
    const r = await setSecret(path, ['name'], 'v', { identities: provider(alice.secret) });
    expect(r.unchanged).toBe(true);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('keeps the type of an existing value (an int stays an int)', async () => {
    const path = await newYaml('types.yaml');
    await setSecret(path, ['port'], '9090', { identities: provider(alice.secret) });
    await setSecret(path, ['enabled'], 'false', { identities: provider(alice.secret) });
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/port: ENC\[AES256_GCM,data:[^,]+,iv:[^,]+,tag:[^,]+,type:int\]/);
    expect(text).toMatch(/enabled: ENC\[AES256_GCM,[^\]]+type:bool\]/);
    const [doc] = await plainOf(path);
    expect(doc!.items.find((i) => i.type === 'entry' && i.key === 'port')).toMatchObject({ value: { type: 'int', value: '9090' } });
    const err = await setSecret(path, ['port'], CANARY, { identities: provider(alice.secret) }).catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'usage')).toBe(true);
    expect(String((err as Error).message)).not.toContain(CANARY);
  });

  it('removes a key; a missing key is key-not-found and leaves the file byte-identical', async () => {
    const path = await newYaml('rm.yaml');
    await removeSecret(path, ['openai', 'api_key'], { identities: provider(alice.secret) });
    expect((await listSecretNames(path))[0]!.map((p) => p.join('.'))).not.toContain('openai.api_key');
    const before = readFileSync(path);
    const err = await removeSecret(path, ['nope'], { identities: provider(alice.secret) }).catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'key-not-found')).toBe(true);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp') || n.endsWith('.lock'))).toEqual([]);
  });

  it('writes through a symlink: the link stays a link, the lock and temp file sit beside the target', async () => {
    const { lstatSync, readlinkSync, symlinkSync } = await import('node:fs');
    const real = await newYaml('link-target.yaml');
    const link = join(dir, 'link.yaml');
    symlinkSync('link-target.yaml', link);
    await setSecret(link, ['via_link'], 'v', { identities: provider(alice.secret) });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('link-target.yaml');
    expect((await listSecretNames(real))[0]!.map((p) => p.join('.'))).toContain('via_link');
    expect(readdirSync(dir).filter((n) => n.includes('link') && n !== 'link.yaml' && n !== 'link-target.yaml')).toEqual([]);
  });

  it('a wrong key changes nothing', async () => {
    const path = await newYaml('wrongkey.yaml');
    const before = readFileSync(path);
    const err = await setSecret(path, ['x'], 'y', { identities: provider(bob.secret) }).catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'no-identity')).toBe(true);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('creates a missing file from the .sops.yaml creation rule', async () => {
    const proj = join(dir, 'proj');
    mkdirSync(join(proj, 'secrets'), { recursive: true });
    writeFileSync(join(proj, '.sops.yaml'), `creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: ${alice.recipient},${bob.recipient}\n    encrypted_regex: ^(api_key|token)$\n`);
    const path = join(proj, 'secrets', 'new.yaml');
    const r = await setSecret(path, ['openai', 'api_key'], CANARY, { identities: provider(alice.secret), create: { cwd: dir } });
    expect(r.fileCreated).toBe(true);
    const { metadata } = await readStructure(path);
    expect(metadata.keyGroups[0]!.age.map((k) => k.recipient)).toEqual([alice.recipient, bob.recipient]);
    expect(metadata.rules).toEqual({ encryptedRegex: '^(api_key|token)$' });
    expect(await plainOf(path, bob.secret)).toEqual([
      { type: 'map', items: [{ type: 'entry', key: 'openai', value: { type: 'map', items: [{ type: 'entry', key: 'api_key', value: { type: 'str', value: CANARY } }] } }] },
    ]);
  });
});

describe('recipients and rotation', () => {
  it('add re-wraps the same data key; rm rotates it; --no-rotate keeps it', async () => {
    const path = await newYaml('recipients.yaml');
    const key0 = (await openSopsFile(path, { identities: provider(alice.secret) })).dataKey;
    expect(await addFileRecipient(path, bob.recipient, { identities: provider(alice.secret) })).toBe(true);
    expect(await addFileRecipient(path, bob.recipient, { identities: provider(alice.secret) })).toBe(false);
    const viaBob = await openSopsFile(path, { identities: provider(bob.secret) });
    expect(Buffer.from(viaBob.dataKey).equals(Buffer.from(key0))).toBe(true);

    await removeFileRecipient(path, bob.recipient, { identities: provider(alice.secret), rotate: true });
    const err = await openSopsFile(path, { identities: provider(bob.secret) }).catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'no-identity')).toBe(true);
    const rotated = await openSopsFile(path, { identities: provider(alice.secret) });
    expect(Buffer.from(rotated.dataKey).equals(Buffer.from(key0))).toBe(false);
    const { branches: expected } = await loadStore('yaml', yamlSource, 'source');
    expect(rotated.branches).toEqual(expected);

    await addFileRecipient(path, bob.recipient, { identities: provider(alice.secret) });
    await removeFileRecipient(path, bob.recipient, { identities: provider(alice.secret), rotate: false });
    expect(Buffer.from((await openSopsFile(path, { identities: provider(alice.secret) })).dataKey).equals(Buffer.from(rotated.dataKey))).toBe(true);
  });

  it('refuses to remove the last recipient', async () => {
    const path = await newYaml('last.yaml');
    const before = readFileSync(path);
    const err = await removeFileRecipient(path, alice.recipient, { identities: provider(alice.secret), rotate: true }).catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'usage')).toBe(true);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('rotate gives a new data key and re-encrypts every value', async () => {
    const path = await newYaml('rotate.yaml');
    const before = readFileSync(path, 'utf8');
    const key0 = (await openSopsFile(path, { identities: provider(alice.secret) })).dataKey;
    await rotateFile(path, { identities: provider(alice.secret) });
    const after = readFileSync(path, 'utf8');
    const opened = await openSopsFile(path, { identities: provider(alice.secret) });
    expect(Buffer.from(opened.dataKey).equals(Buffer.from(key0))).toBe(false);
    const encOf = (t: string) => [...t.matchAll(/ENC\[[^\]]+\]/g)].map((m) => m[0]);
    for (const e of encOf(before)) expect(after).not.toContain(e);
  });

  it('the real age CLI unwraps every enc after add and rotate', async () => {
    const path = await newYaml('agecli.yaml');
    await addFileRecipient(path, bob.recipient, { identities: provider(alice.secret) });
    await rotateFile(path, { identities: provider(bob.secret) });
    const { metadata } = await readStructure(path);
    const key = (await openSopsFile(path, { identities: provider(alice.secret) })).dataKey;
    const keyFile = join(dir, 'agecli-keys.txt');
    writeFileSync(keyFile, `${alice.secret}\n${bob.secret}\n`, { mode: 0o600 });
    for (const k of metadata.keyGroups[0]!.age) {
      const out = execFileSync('age', ['-d', '-i', keyFile], { input: k.enc });
      expect(out.equals(Buffer.from(key))).toBe(true);
    }
  });
});
