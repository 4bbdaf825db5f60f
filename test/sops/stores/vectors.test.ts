// Every real sops file in ../shared/vectors loads with a sane structure, and what we write back reads the same.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { emitStore, formatFromPath, loadStore } from '../../../src/sops/stores/index.js';
import type { MapNode, Node } from '../../../src/sops/tree.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const vectorsDir = path.resolve(repoRoot, '../shared/vectors');
const haveVectors = existsSync(path.join(vectorsDir, 'MANIFEST.md'));
if (!haveVectors) console.warn(`SKIPPED: sops vector tests, ${vectorsDir} is absent`);

function listVectors(): string[] {
  if (!haveVectors) return [];
  const out: string[] = [];
  for (const dir of readdirSync(vectorsDir, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const f of readdirSync(path.join(vectorsDir, dir.name), { withFileTypes: true })) {
      if (f.isFile() && !f.name.endsWith('.expected.json')) out.push(path.join(dir.name, f.name));
    }
  }
  return out.sort();
}

/** The shape of a tree without values: maps as key → shape, lists as arrays, leaves as 'leaf' (null stays null). */
function shape(node: Node): unknown {
  if (node.type === 'map') {
    const o: Record<string, unknown> = {};
    for (const i of node.items) if (i.type === 'entry') o[i.key] = shape(i.value);
    return o;
  }
  if (node.type === 'list') return node.items.filter((i) => i.type !== 'comment').map((i) => shape(i as Node));
  return node.type === 'null' ? null : 'leaf';
}

function shapeOfPlain(v: unknown): unknown {
  if (v === null) return null;
  if (Array.isArray(v)) return v.map(shapeOfPlain);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, shapeOfPlain(x)]));
  return 'leaf';
}

/** The indentation a file was written with (sops' --indent / .sops.yaml `stores` setting). */
function detectIndent(format: string, text: string): { indent?: number } {
  const m = /\n([ \t]+)\S/.exec(text);
  if (m === null || m[1]!.startsWith('\t')) return {};
  if (format === 'json' || format === 'binary' || format === 'yaml') return { indent: m[1]!.length };
  return {};
}

// Files whose bytes we reproduce exactly: written by sops itself with a key order we keep.
// Not exact: rops re-serialisations (2-space indent, unquoted lastmodified) and INI before 3.13 (random metadata order).
const notByteExact = (file: string, text: string): boolean =>
  file.startsWith('gibbz00+rops/') || file.endsWith('.ini') || text.includes('\r');

describe.skipIf(!haveVectors)('sops vectors', () => {
  const files = listVectors();
  it('finds the vectors', () => {
    expect(files.length).toBeGreaterThanOrEqual(41);
  });
  for (const file of files) {
    const full = path.join(vectorsDir, file);
    const format = formatFromPath(file);
    it(`${file} (${format})`, async () => {
      const text = readFileSync(full, 'utf8');
      const loaded = await loadStore(format, text, file);
      expect(loaded.metadata, 'metadata found').toBeDefined();
      const metaKeys = loaded.metadata!.items.flatMap((i) => (i.type === 'entry' ? [i.key] : []));
      expect(metaKeys).toContain('mac');
      expect(metaKeys).toContain('lastmodified');
      expect(metaKeys.some((k) => k === 'age' || k === 'key_groups')).toBe(true);
      for (const b of loaded.branches) expect(b.items.some((i) => i.type === 'entry' && i.key === 'sops')).toBe(false);

      const expectedFile = `${full}.expected.json`;
      if (existsSync(expectedFile)) {
        const expected = JSON.parse(readFileSync(expectedFile, 'utf8')) as { documents: unknown[] };
        expect(loaded.branches.map((b) => shape(b))).toEqual(expected.documents.map(shapeOfPlain));
      }

      const written = await emitStore(format, loaded.branches, loaded.metadata, detectIndent(format, text));
      const again = await loadStore(format, written, file);
      expect(again.branches).toEqual(loaded.branches);
      expect(again.metadata).toEqual(format === 'dotenv' || format === 'ini' ? loaded.metadata : loaded.metadata);
      // Some repositories strip the final newline sops writes; compare modulo that.
      if (!notByteExact(file, text)) expect(written).toBe(text.endsWith('\n') ? text : `${text}\n`);
      if (format === 'ini') {
        // Before 3.13 the [sops] keys came in Go map order: the data sections are exact, the metadata lines the same set.
        const split = (t: string) => {
          const at = t.indexOf('[sops]\n');
          return { data: t.slice(0, at), meta: t.slice(at).split('\n').filter((l) => l !== '').sort() };
        };
        expect(split(written)).toEqual(split(text));
      }
    });
  }
});
