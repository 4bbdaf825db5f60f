// Real sops files whose metadata lists key types without keys (`"kms": null`, as sops 3.7-3.9 write JSON): rotate and recipients work on them.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/built-cli.js';
import { HAVE_VECTORS, VECTORS_DIR, expectedDocuments, readVectors } from '../helpers/sops-vectors.js';

if (!HAVE_VECTORS) console.warn(`skipping the rotate-on-vectors tests: ${VECTORS_DIR} is absent`);
const dir = mkdtempSync(join(tmpdir(), 'ws-rotate-vectors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const withNullKeys = HAVE_VECTORS
  ? readVectors().filter((v) => v.positive && v.keys.length > 0 && v.format === 'json' && /"(kms|pgp)": null/.test(readFileSync(join(VECTORS_DIR, v.file), 'utf8')))
  : [];

describe.skipIf(!HAVE_VECTORS)('rotate on real sops files with empty key types', () => {
  it('finds such files among the vectors', () => {
    expect(withNullKeys.length).toBeGreaterThan(0);
  });

  it.each(withNullKeys.map((v) => [v.file, v] as const))('%s: no phantom keys listed, rotate works, the values stay', async (_name, v) => {
    const file = join(dir, basename(v.file));
    copyFileSync(join(VECTORS_DIR, v.file), file);
    const env = { PATH: process.env.PATH, HOME: dir, SOPS_AGE_KEY_FILE: join(VECTORS_DIR, v.keys[0]!) };
    const list = await runCli(['recipients', 'list', '-f', file], { env });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout + list.stderr).not.toMatch(/kms|pgp/);
    const rotate = await runCli(['rotate', '-f', file], { env });
    expect(rotate.code, rotate.stderr).toBe(0);
    const out = await runCli(['decrypt', '--output-type', 'json', file], { env });
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual(expectedDocuments(v)[0]);
  });
});
