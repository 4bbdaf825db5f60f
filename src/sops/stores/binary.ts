// The binary store: a plaintext file is the single key `data`; encrypted, it is a JSON envelope with `data` and `sops`.

import type { MapNode } from '../tree.js';
import { WithSecretsError } from '../../errors.js';
import { emitJson, parseJsonBranch } from './json.js';
import type { LoadedStore } from './index.js';
import { splitMetadata, joinMetadata } from './split-metadata.js';

/**
 * `auto`: text that is a JSON object with a top-level `sops` map is an encrypted envelope (read
 * like the JSON store); anything else is plaintext and becomes `{data: text}`. `plain`: always plaintext.
 */
export function loadBinary(text: string, source: string, mode: 'auto' | 'plain'): LoadedStore {
  if (mode === 'auto' && looksLikeEnvelope(text)) {
    let branch: MapNode | undefined;
    try {
      branch = parseJsonBranch(text, source);
    } catch {
      branch = undefined;
    }
    if (branch !== undefined && branch.items.some((i) => i.type === 'entry' && i.key === 'sops' && i.value.type === 'map')) {
      return splitMetadata([branch], source);
    }
  }
  return { branches: [{ type: 'map', items: [{ type: 'entry', key: 'data', value: { type: 'str', value: text } }] }], metadata: undefined };
}

function looksLikeEnvelope(text: string): boolean {
  return /^\s*\{/.test(text) && text.includes('"sops"');
}

/**
 * With metadata: the JSON envelope (as the JSON store prints it). Without: the raw string of the
 * `data` key, no newline added; a missing or non-string `data` is an error pointing at --output-type.
 */
export function emitBinary(branches: readonly MapNode[], metadata: MapNode | undefined, indent?: number): string {
  if (metadata !== undefined) {
    if (branches.length !== 1) throw new WithSecretsError('usage', `the binary format holds exactly one document, got ${branches.length}`);
    return emitJson(joinMetadata(branches, metadata)[0]!, { indent });
  }
  const hint = 'the document is not a binary file; choose another format with --output-type, e.g. --output-type yaml';
  if (branches.length !== 1) {
    throw new WithSecretsError('usage', 'cannot write a binary file: there must be exactly one document', { hint });
  }
  for (const item of branches[0]!.items) {
    if (item.type === 'entry' && item.key === 'data') {
      if (item.value.type === 'str') return item.value.value;
      throw new WithSecretsError('usage', "cannot write a binary file: the 'data' key does not hold a string", { hint });
    }
  }
  throw new WithSecretsError('usage', "cannot write a binary file: no 'data' key in the document", { hint });
}
