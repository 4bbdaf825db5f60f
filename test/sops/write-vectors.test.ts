// Every positive real-sops vector: decrypt, set a new key, write to a temp copy, decrypt again — other values, comments and order unchanged, MAC verified.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/age/provider.js';
import { parseAgeSecretKey } from '../../src/age/secret-key.js';
import { openSopsFile } from '../../src/sops/open.js';
import { readStructure, setSecret } from '../../src/sops/secret-ops.js';
import { hasValue, removeValue, type PathSegment } from '../../src/sops/edit-tree.js';
import { compileRules } from '../../src/sops/encryption-rules.js';
import { isWithSecretsError } from '../../src/errors.js';
import type { MapNode, StoreFormat } from '../../src/sops/tree.js';
import { HAVE_VECTORS, VECTORS_DIR, readVectors, vectorSecretKey } from '../helpers/sops-vectors.js';

if (!HAVE_VECTORS) console.warn(`SKIPPED: write tests on the real sops vectors: ${VECTORS_DIR} is absent`);

const CANARY = 'canary-vector-3c7d';

describe.skipIf(!HAVE_VECTORS)('set a key in every positive vector', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ws-vectors-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const vectors = HAVE_VECTORS ? readVectors().filter((v) => v.positive) : [];
  it('finds the positive vectors', () => {
    expect(vectors.length).toBeGreaterThan(30);
  });

  it.each(vectors.map((v) => [v.file, v] as const))('%s', async (_name, v) => {
    const identities = staticProvider([{ label: 'vector key', identities: v.keys.map((k) => parseAgeSecretKey(vectorSecretKey(k))!) }]);
    const format = (v.format.startsWith('binary') ? 'binary' : v.format) as StoreFormat;
    const copy = join(dir, `${Math.random().toString(36).slice(2)}-${basename(v.file)}`);
    copyFileSync(join(VECTORS_DIR, v.file), copy);
    const before = await openSopsFile(copy, { format, identities });
    if (format === 'binary') {
      // A binary file holds only `data`: change it instead.
      await setSecret(copy, ['data'], CANARY, { format, identities });
      const after = await openSopsFile(copy, { format, identities });
      expect(after.branches[0]!.items).toEqual([{ type: 'entry', key: 'data', value: { type: 'str', value: CANARY } }]);
      expect(readFileSync(copy, 'utf8')).not.toContain(CANARY);
      return;
    }
    // A new name the file's partial-encryption rule encrypts (a name it leaves plain is refused: see below).
    const rules = compileRules(before.metadata.rules, copy);
    const suffix = before.metadata.rules.encryptedSuffix ?? '';
    const candidates: PathSegment[][] =
      format === 'ini'
        ? [['with_secrets', 'added']]
        : [['with_secrets_added'], ['data', 'with_secrets_added'], ['stringData', 'with_secrets_added'], [`with_secrets_added${suffix}`], ['encrypted_with_secrets']];
    const name = candidates.find(
      (c) => rules.shouldEncrypt(c.map(String), [], false) && (format === 'ini' || c.length === 1 || hasValue(before.branches[0]!, c.slice(0, -1))),
    )!;
    expect(name).toBeDefined();
    expect(hasValue(before.branches[0]!, name)).toBe(false);
    if (!rules.shouldEncrypt(['with_secrets_added'], [], false)) {
      // sops would store this name in plain text; with-secrets refuses and leaves the file as it was.
      const original = readFileSync(copy);
      const err = await setSecret(copy, ['with_secrets_added'], CANARY, { format, identities }).catch((e: unknown) => e);
      expect(isWithSecretsError(err, 'usage')).toBe(true);
      expect(readFileSync(copy).equals(original)).toBe(true);
    }
    await setSecret(copy, name, CANARY, { format, identities });
    const after = await openSopsFile(copy, { format, identities });
    expect(after.macVerified).toBe(true);
    expect(readFileSync(copy, 'utf8')).not.toContain(CANARY);
    // Every document, every other value, comment and the order are as before; removing the new key gives the old tree.
    expect(after.branches.length).toBe(before.branches.length);
    expect(hasValue(after.branches[0]!, name)).toBe(true);
    const restored: MapNode[] = after.branches.map((b, i) => (i === 0 ? removeValue(b, name) : b));
    if (format === 'ini') restored[0] = { ...restored[0]!, items: restored[0]!.items.filter((i) => !(i.type === 'entry' && i.key === 'with_secrets')) };
    expect(restored).toEqual(before.branches);
    // The metadata keeps recipients and rules; the layout is stamped with the version we write.
    const meta = (await readStructure(copy, format)).metadata;
    expect(meta.keyGroups.map((g) => g.age.map((k) => k.recipient))).toEqual(before.metadata.keyGroups.map((g) => g.age.map((k) => k.recipient)));
    expect(compileRules(meta.rules, copy).rules).toEqual(rules.rules);
    expect(meta.macOnlyEncrypted).toBe(before.metadata.macOnlyEncrypted);
    expect(meta.version).toBe('3.13.2');
  });
});
