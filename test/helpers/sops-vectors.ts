// Reads ../shared/vectors/MANIFEST.md (real sops files, outside the repo): which files, keys and expected plaintext.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The vectors folder, next to the repository; never copied into it. */
export const VECTORS_DIR = resolve(fileURLToPath(new URL('../..', import.meta.url)), '../shared/vectors');
/** Whether the vectors are present on this machine (tests skip visibly when not). */
export const HAVE_VECTORS = existsSync(join(VECTORS_DIR, 'MANIFEST.md'));

/** One real sops file of the manifest. */
export interface SopsVector {
  /** Path relative to {@link VECTORS_DIR}. */
  readonly file: string;
  readonly format: string;
  /** Key files (relative), each usable as SOPS_AGE_KEY_FILE. */
  readonly keys: readonly string[];
  /** False for the negatives (MAC=NO): they must be refused. */
  readonly positive: boolean;
  /** Relative path of the expected JSON (`documents`: one object per document), when positive. */
  readonly expected: string | undefined;
}

/** The sops-file rows of the manifest table (the age-level files are listed separately there). */
export function readVectors(): SopsVector[] {
  const text = readFileSync(join(VECTORS_DIR, 'MANIFEST.md'), 'utf8');
  const out: SopsVector[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cells = line.split(' | ').map((c) => c.trim());
    const file = /`([^`]+)`/.exec(cells[0]!)?.[1];
    if (file === undefined) continue;
    const keys = [...(cells[6] ?? '').matchAll(/`([^`]+\/keys\/[^`]+)`/g)].map((m) => m[1]!);
    const positive = cells[8] === 'yes';
    const expected = /`([^`]+\.expected\.json)`/.exec(cells[9] ?? '')?.[1];
    out.push({ file, format: cells[4] ?? '', keys, positive, expected });
  }
  return out;
}

/** The expected documents of a positive vector. */
export function expectedDocuments(v: SopsVector): unknown[] {
  const json = JSON.parse(readFileSync(join(VECTORS_DIR, v.expected!), 'utf8')) as { documents: unknown[] };
  return json.documents;
}

/** The secret key line of a vector key file. */
export function vectorSecretKey(keyFile: string): string {
  const line = readFileSync(join(VECTORS_DIR, keyFile), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('AGE-SECRET-KEY-'));
  if (line === undefined) throw new Error(`no key in ${keyFile}`);
  return line.trim();
}
