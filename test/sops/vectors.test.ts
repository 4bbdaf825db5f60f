// Every real sops file of ../shared/vectors through the library: positives give their expected values, negatives fail with code 5.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/age/provider.js';
import { parseAgeSecretKey } from '../../src/age/secret-key.js';
import { WithSecretsError } from '../../src/errors.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { openSopsFile } from '../../src/sops/open.js';
import type { MapNode, Node } from '../../src/sops/tree.js';
import { expectedDocuments, HAVE_VECTORS, readVectors, VECTORS_DIR, vectorSecretKey } from '../helpers/sops-vectors.js';

if (!HAVE_VECTORS) console.warn(`SKIPPED: sops vectors not found at ${VECTORS_DIR}`);

/** The plaintext as the manifest's expected JSON writes it (comments dropped). */
export function toPlain(node: Node): unknown {
  switch (node.type) {
    case 'map':
      return Object.fromEntries(node.items.flatMap((i) => (i.type === 'entry' ? [[i.key, toPlain(i.value)]] : [])));
    case 'list':
      return node.items.flatMap((i) => (i.type === 'comment' ? [] : [toPlain(i)]));
    case 'int':
      return Number(node.value);
    case 'null':
      return null;
    case 'bytes':
      return Buffer.from(node.value).toString('utf8');
    default:
      return node.value;
  }
}

const vectors = HAVE_VECTORS ? readVectors() : [];

describe.skipIf(!HAVE_VECTORS)('sops vectors (library)', () => {
  it('the manifest lists the 41 files with keys', () => {
    expect(vectors.length).toBe(41);
    expect(vectors.filter((v) => !v.positive).length).toBeGreaterThanOrEqual(1);
    for (const v of vectors) expect(v.keys.length).toBeGreaterThan(0);
  });

  for (const v of vectors) {
    for (const keyFile of v.keys) {
      const name = `${v.file} with ${keyFile.split('/').pop()}`;
      const open = () =>
        openSopsFile(join(VECTORS_DIR, v.file), {
          ...(v.format.startsWith('binary') ? { format: 'binary' as const } : {}),
          identities: staticProvider([{ label: keyFile, identities: [parseAgeSecretKey(vectorSecretKey(keyFile))!] }]),
        });
      if (v.positive) {
        it(`decrypts ${name}`, async () => {
          const opened = await open();
          expect(opened.macVerified).toBe(true);
          expect(opened.branches.map((b: MapNode) => toPlain(b))).toEqual(expectedDocuments(v));
        });
      } else {
        it(`refuses ${name} (negative) with an integrity error`, async () => {
          try {
            await open();
            expect.unreachable();
          } catch (e) {
            expect(e).toBeInstanceOf(WithSecretsError);
            expect(exitCodeFor((e as WithSecretsError).code)).toBe(5);
          }
        });
      }
    }
  }
});
