// The YAML store reader: the fast subset reader first, the `yaml` package (loaded only then) for everything else.

import type { MapNode } from '../tree.js';
import { LineIndex } from './malformed.js';
import { buildBranches } from './yaml-ir.js';
import type { IrDocument } from './yaml-ir.js';
import { parseYamlFast } from './yaml-fast.js';

/**
 * Parses every YAML document of `text` into a branch (an empty or null document is an empty
 * branch; text with no document at all gives one empty branch). The `sops` key is left in place.
 * Plain block YAML (what sops writes) is read by a fast reader; other syntax goes to the `yaml`
 * package, which is imported only then. Both produce the same positioned form, so comments,
 * typing and errors do not depend on the path taken.
 */
export async function loadYaml(text: string, source: string): Promise<MapNode[]> {
  let docs: IrDocument[] | undefined = parseYamlFast(text);
  if (docs === undefined) {
    const { parseYamlDocuments } = await import('./yaml-parse-lib.js');
    docs = parseYamlDocuments(text, source, new LineIndex(text));
  }
  const branches = buildBranches(docs, source);
  return branches.length === 0 ? [{ type: 'map', items: [] }] : branches;
}
