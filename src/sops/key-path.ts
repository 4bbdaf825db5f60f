// Key paths into a sops document: dotted (`openai.api_key`) or sops' extract syntax (`["a"]["b"]`, `["list"][0]`).
import { WithSecretsError } from '../errors.js';
import type { MapNode, Node } from './tree.js';

/** One step: a map key, or (extract syntax only) a list index. */
export type KeyPathSegment = string | number;

/** Longest key path accepted, in characters (a guard for config and argv input). */
const MAX_PATH_LENGTH = 4096;

function usage(message: string): WithSecretsError {
  return new WithSecretsError('usage', message, {
    hint: `write a dotted path (openai.api_key) or sops' extract syntax (["openai"]["api_key"], ["list"][0])`,
  });
}

/**
 * Parses sops' `--extract` syntax: `["key"]` or `['key']` for a map key, `[N]` for a list index.
 * A quoted key ends at the first matching quote followed by `]`, so keys may hold `[`, `]` and dots.
 * Throws `usage` on anything else.
 */
export function parseExtractPath(text: string): KeyPathSegment[] {
  if (text.length > MAX_PATH_LENGTH) throw usage('key path is too long');
  const out: KeyPathSegment[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '[') throw usage(`key path: expected [ at position ${i + 1}`);
    const q = text[i + 1];
    if (q === '"' || q === "'") {
      const end = text.indexOf(q + ']', i + 2);
      if (end < 0) throw usage(`key path: unterminated ${q === '"' ? 'double' : 'single'}-quoted key at position ${i + 1}`);
      out.push(text.slice(i + 2, end));
      i = end + 2;
      continue;
    }
    const m = /^\[([0-9]{1,9})\]/.exec(text.slice(i, i + 12));
    if (!m) throw usage(`key path: expected a quoted key or a list index at position ${i + 1}`);
    out.push(Number(m[1]));
    i += m[0].length;
  }
  if (out.length === 0) throw usage('key path is empty');
  return out;
}

/**
 * Parses a key path: sops' extract syntax when it starts with `[`, else dotted (`a.b.c`, every part
 * a map key; a part of digits also indexes a list). Throws `usage` for an empty path or part.
 */
export function parseKeyPath(text: string): KeyPathSegment[] {
  if (text.startsWith('[')) return parseExtractPath(text);
  if (text.length > MAX_PATH_LENGTH) throw usage('key path is too long');
  if (text === '') throw usage('key path is empty');
  const parts = text.split('.');
  if (parts.some((p) => p === '')) throw usage('key path has an empty part (two dots, or a dot at an end)');
  return parts;
}

/** Formats a path in sops' extract syntax, which can express every key (for messages and round trips). */
export function formatKeyPath(path: readonly KeyPathSegment[]): string {
  return path.map((s) => (typeof s === 'number' ? `[${s}]` : s.includes('"]') ? `['${s}']` : `["${s}"]`)).join('');
}

/** Formats a path for people: dotted when every part is a plain name, else the extract syntax. */
export function showKeyPath(path: readonly KeyPathSegment[]): string {
  return path.every((s) => typeof s === 'string' && /^[A-Za-z0-9_-]+$/.test(s)) ? path.join('.') : formatKeyPath(path);
}

/**
 * Finds the node at `path` in a (decrypted) branch. Throws `key-not-found` naming the path and, when
 * given, the file, and saying how far the path matched; never prints a value.
 */
export function lookupPath(branch: MapNode, path: readonly KeyPathSegment[], file?: string): Node {
  let node: Node = branch;
  for (let depth = 0; depth < path.length; depth++) {
    const seg = path[depth]!;
    let next: Node | undefined;
    if (node.type === 'map') {
      if (typeof seg === 'string') {
        // An indexed loop: a launch looks up each value cold, where for…of allocates per item (perf, issue 7).
        const items = node.items;
        for (let i = 0; i < items.length; i++) {
          const item = items[i]!;
          if (item.type === 'entry' && item.key === seg) {
            next = item.value;
            break;
          }
        }
      }
    } else if (node.type === 'list') {
      const index = typeof seg === 'number' ? seg : /^[0-9]{1,9}$/.test(seg) ? Number(seg) : undefined;
      if (index !== undefined) next = node.items.filter((i) => i.type !== 'comment')[index] as Node | undefined;
    }
    if (next === undefined) {
      const where = depth === 0 ? 'at the top level' : `under ${showKeyPath(path.slice(0, depth))}`;
      const kind = node.type === 'map' ? 'no such key' : node.type === 'list' ? 'no such list index' : 'a single value has no keys';
      throw new WithSecretsError('key-not-found', `${file === undefined ? '' : `${file}: `}${showKeyPath(path)} not found (${kind} ${where})`, {
        hint: 'check the key path (keys are case-sensitive; use the ["a"]["b"] syntax for keys with dots)',
      });
    }
    node = next;
  }
  return node;
}
