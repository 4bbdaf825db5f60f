// The dotenv store: `KEY=value` lines with `#` comments; the metadata is flattened into `sops_…` keys.

import { WithSecretsError } from '../../errors.js';
import type { Comment, Entry, MapNode } from '../tree.js';
import { flattenMetadata, unflattenMetadata, valueToString } from './flatten.js';
import type { FlatEntry } from './flatten.js';
import type { LoadedStore } from './index.js';
import { malformed } from './malformed.js';

const PREFIX = 'sops_';

/**
 * Reads dotenv as sops does: split on `\n`, skip empty lines, a line starting with `#` is a
 * comment, otherwise the key is everything before the first `=` (not trimmed) and the value the
 * rest with `\n` turned into newlines. Every `sops_` key is metadata, un-flattened (values stay strings).
 */
export function loadDotenv(text: string, source: string): LoadedStore {
  const items: Array<Entry | Comment> = [];
  const flat: FlatEntry[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (line.length === 0) return;
    if (line.startsWith('#')) {
      items.push({ type: 'comment', value: line.slice(1) });
      return;
    }
    const eq = line.indexOf('=');
    if (eq === -1) {
      throw malformed(source, { line: index + 1 }, 'invalid dotenv line: no "=" between a name and a value', {
        hint: 'each line must be NAME=value or a # comment',
      });
    }
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1).replaceAll('\\n', '\n');
    if (key.startsWith(PREFIX)) flat.push({ key: key.slice(PREFIX.length), value: { type: 'str', value } });
    else items.push({ type: 'entry', key, value: { type: 'str', value } });
  });
  const metadata = flat.length > 0 ? unflattenMetadata(flat, source) : undefined;
  return { branches: [{ type: 'map', items }], metadata };
}

/**
 * Writes `KEY=value` lines (newlines as `\n`, non-strings as sops' ValToString prints them),
 * comments as `#text`, then the flattened metadata with sorted `sops_` keys. A nested value is an error.
 */
export function emitDotenv(branches: readonly MapNode[], metadata: MapNode | undefined): string {
  if (branches.length !== 1) {
    throw new WithSecretsError('usage', `the dotenv format holds exactly one document, got ${branches.length}`, {
      hint: 'pick one YAML document, or write YAML',
    });
  }
  const out: string[] = [];
  for (const item of branches[0]!.items) {
    if (item.type === 'comment') {
      out.push(`#${item.value}\n`);
      continue;
    }
    if (metadata !== undefined && item.key.startsWith(PREFIX)) {
      throw new WithSecretsError('usage', `the key ${JSON.stringify(item.key)} starts with "sops_", which dotenv files reserve for sops metadata`, {
        hint: 'rename the key',
      });
    }
    out.push(line(item));
  }
  if (metadata !== undefined) {
    for (const e of flattenMetadata(metadata, PREFIX)) out.push(line({ type: 'entry', key: e.key, value: e.value }));
  }
  return out.join('');
}

function line(e: Entry): string {
  const v = e.value;
  if (v.type === 'map' || v.type === 'list') {
    throw new WithSecretsError('usage', `the dotenv format cannot hold the nested value at ${JSON.stringify(e.key)}`, {
      hint: 'choose --output-type yaml or json, or extract a single value',
    });
  }
  if (e.key.includes('=') || e.key.includes('\n') || e.key.startsWith('#')) {
    // sops would write it anyway and read back a different key; refuse instead of corrupting the file.
    throw new WithSecretsError('usage', `the key ${JSON.stringify(e.key)} cannot be written to a dotenv file`, {
      hint: 'dotenv keys cannot contain "=" or a newline, nor start with "#"',
    });
  }
  const text = v.type === 'str' ? v.value.replaceAll('\n', '\\n') : valueToString(v);
  return `${e.key}=${text}\n`;
}
