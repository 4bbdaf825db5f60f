// Takes the top-level `sops` map out of the branches of a YAML/JSON/binary file, as sops' ExtractMetadata does.

import type { MapNode } from '../tree.js';
import { malformed } from './malformed.js';

/** The branches without their `sops` entries, and the `sops` map of the first branch (if any). */
export interface SplitBranches {
  readonly branches: MapNode[];
  readonly metadata: MapNode | undefined;
}

/**
 * Reads `sops` from the first branch only and removes it from every branch (sops appends the
 * metadata to every YAML document on write). Two `sops` keys in the first branch, or a `sops`
 * value that is not a map, are `malformed`.
 */
export function splitMetadata(branches: readonly MapNode[], source: string): SplitBranches {
  let metadata: MapNode | undefined;
  const out: MapNode[] = [];
  branches.forEach((branch, index) => {
    if (!branch.items.some((i) => i.type === 'entry' && i.key === 'sops')) {
      out.push(branch);
      return;
    }
    if (index === 0) {
      for (const item of branch.items) {
        if (item.type !== 'entry' || item.key !== 'sops') continue;
        if (metadata !== undefined) throw malformed(source, { path: ['sops'] }, 'duplicate top-level sops entry');
        if (item.value.type !== 'map') throw malformed(source, { path: ['sops'] }, 'the sops entry is not a map');
        metadata = item.value;
      }
    }
    out.push({ type: 'map', items: branch.items.filter((i) => i.type !== 'entry' || i.key !== 'sops') });
  });
  return { branches: out, metadata };
}

/** Appends `metadata` as the last `sops` entry of every branch (sops' SerializeMetadata). */
export function joinMetadata(branches: readonly MapNode[], metadata: MapNode | undefined): MapNode[] {
  if (metadata === undefined) return [...branches];
  return branches.map((b) => ({ type: 'map', items: [...b.items, { type: 'entry', key: 'sops', value: metadata }] }));
}
