// The YAML store: text to branches (comments kept, yaml.v3 typing) and branches to text as sops writes it.

import type { MapNode } from '../tree.js';
import { LineIndex } from './malformed.js';
import { buildBranches } from './yaml-ir.js';
import type { IrDocument } from './yaml-ir.js';

/**
 * Parses every YAML document of `text` into a branch (an empty or null document is an empty
 * branch; text with no document at all gives one empty branch). The `sops` key is left in place.
 */
export async function loadYaml(text: string, source: string): Promise<MapNode[]> {
  const lines = new LineIndex(text);
  const { parseYamlDocuments } = await import('./yaml-parse-lib.js');
  const docs: IrDocument[] = parseYamlDocuments(text, source, lines);
  const branches = buildBranches(docs, source);
  return branches.length === 0 ? [{ type: 'map', items: [] }] : branches;
}
