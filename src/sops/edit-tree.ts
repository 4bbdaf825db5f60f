// Changes one value of a decrypted tree: set (keeping an existing value's type) or remove, by key path; and lists leaf paths.
import { WithSecretsError } from '../errors.js';
import { showKeyPath, type KeyPathSegment } from './key-path.js';
import { canonicalTime, parseGoBool, parseGoFloat, parseGoInt } from './value-codec.js';
import type { Comment, Entry, ListNode, MapNode, Node, Scalar } from './tree.js';

/** One step of a key path: a map key, or a list index (a dotted part of digits also indexes a list). */
export type PathSegment = KeyPathSegment;

/** The result of {@link setValue}: the new branch, and whether the key was new. */
export interface SetResult {
  readonly branch: MapNode;
  readonly created: boolean;
}

/**
 * Sets the value at `path` to `text`. An existing leaf keeps its type (an int stays an int, so
 * `text` must then read as one); a new key is a string and is appended after the map's last item,
 * creating missing maps on the way. Throws `key-not-found` for a missing list index,
 * `value-not-scalar` when the path ends at (or runs through) a map or list where it should not, and
 * `usage` when `text` does not fit the existing type. Messages name the path, never the value.
 */
export function setValue(branch: MapNode, path: readonly PathSegment[], text: string): SetResult {
  if (path.length === 0) throw new WithSecretsError('usage', 'the key path is empty');
  let created = false;
  const replaceLeaf = (old: Node | undefined, at: readonly PathSegment[]): Node => {
    if (old === undefined) {
      created = true;
      return { type: 'str', value: text };
    }
    if (old.type === 'map' || old.type === 'list') {
      throw new WithSecretsError('value-not-scalar', `${formatKeyPath(at)} holds a ${old.type === 'map' ? 'map' : 'list'}, not a single value`, {
        hint: 'name one of the values inside it (e.g. a.b), or remove it first',
      });
    }
    return coerceLike(old, text, at);
  };
  const out = update(branch, path, 0, replaceLeaf, true);
  if (out.type !== 'map') throw new WithSecretsError('internal', 'the document root stopped being a map');
  return { branch: out, created };
}

/**
 * Removes the value at `path` (a leaf, or a whole map or list). Comments around it stay, so no
 * text the user wrote is lost. Throws `key-not-found` when there is nothing at `path`.
 */
export function removeValue(branch: MapNode, path: readonly PathSegment[]): MapNode {
  if (path.length === 0) throw new WithSecretsError('usage', 'the key path is empty');
  return removeAt(branch, path, 0) as MapNode;
}

/** Whether `path` names something in `branch`. */
export function hasValue(branch: MapNode, path: readonly PathSegment[]): boolean {
  let node: Node = branch;
  for (const seg of path) {
    const next = child(node, seg);
    if (next === undefined) return false;
    node = next;
  }
  return true;
}

/** Every leaf's path, in document order (null leaves included, comments not). */
export function listLeafPaths(branch: MapNode): PathSegment[][] {
  const out: PathSegment[][] = [];
  const walk = (node: Node, at: PathSegment[]): void => {
    if (node.type === 'map') {
      for (const item of node.items) if (item.type === 'entry') walk(item.value, [...at, item.key]);
    } else if (node.type === 'list') {
      let i = 0;
      for (const item of node.items) if (item.type !== 'comment') walk(item, [...at, i++]);
    } else {
      out.push(at);
    }
  };
  walk(branch, []);
  return out;
}

/** Formats a path for people: dotted when every part is a plain name, else sops' extract syntax. */
export function formatKeyPath(path: readonly PathSegment[]): string {
  return showKeyPath(path);
}

/** A list index from a segment: a number, or a dotted part of digits (as lookupPath reads it). */
function indexOf(seg: PathSegment): number | undefined {
  if (typeof seg === 'number') return seg;
  return /^[0-9]{1,9}$/.test(seg) ? Number(seg) : undefined;
}

/** Converts `text` to the type of `old` (sops' types), or throws `usage` naming the path and type. */
function coerceLike(old: Scalar, text: string, at: readonly PathSegment[]): Scalar {
  const bad = (what: string): never => {
    throw new WithSecretsError('usage', `${formatKeyPath(at)} holds ${what}, and the new value does not read as one`, {
      hint: 'an existing value keeps its type; remove it first to store a string instead',
    });
  };
  switch (old.type) {
    case 'str':
    case 'null':
    case 'bytes':
      return { type: 'str', value: text };
    case 'int': {
      const v = parseGoInt(text.trim());
      return v === undefined ? bad('an integer') : { type: 'int', value: v };
    }
    case 'float': {
      const v = parseGoFloat(text.trim());
      return v === undefined ? bad('a number') : { type: 'float', value: v };
    }
    case 'bool': {
      const v = parseGoBool(text.trim());
      return v === undefined ? bad('a boolean (true/false)') : { type: 'bool', value: v };
    }
    case 'time': {
      const v = canonicalTime(text.trim());
      return v === undefined ? bad('an RFC 3339 time') : { type: 'time', value: v };
    }
  }
}

/** The child of a map or list at one segment, if any. */
function child(node: Node, seg: PathSegment): Node | undefined {
  if (node.type === 'map') {
    if (typeof seg !== 'string') return undefined;
    return findEntry(node, seg)?.value;
  }
  if (node.type === 'list') {
    const index = indexOf(seg);
    return index === undefined ? undefined : node.items.filter((i): i is Node => i.type !== 'comment')[index];
  }
  return undefined;
}

/** The first entry with this key (as lookupPath, which the launcher reads with), if any. */
function findEntry(node: MapNode, key: string): Entry | undefined {
  for (const item of node.items) if (item.type === 'entry' && item.key === key) return item;
  return undefined;
}

/** Rebuilds `node` with the leaf at `path[depth..]` replaced by `leaf(old)`. */
function update(
  node: Node,
  path: readonly PathSegment[],
  depth: number,
  leaf: (old: Node | undefined, at: readonly PathSegment[]) => Node,
  create: boolean,
): Node {
  const seg = path[depth]!;
  const at = path.slice(0, depth + 1);
  const last = depth === path.length - 1;
  if (node.type === 'map') {
    if (typeof seg !== 'string') throw notFound(at, `${formatKeyPath(path.slice(0, depth)) || 'the top level'} is a map, not a list`);
    const existing = findEntry(node, seg);
    if (existing === undefined) {
      if (!create) throw notFound(at);
      const value = last ? leaf(undefined, at) : buildNew(path, depth + 1, leaf);
      return { ...node, items: [...node.items, { type: 'entry', key: seg, value }] };
    }
    const value = last ? leaf(existing.value, at) : update(existing.value, path, depth + 1, leaf, create);
    return { ...node, items: node.items.map((i) => (i === existing ? { ...existing, value } : i)) };
  }
  if (node.type === 'list') {
    const index = indexOf(seg);
    if (index === undefined) throw notFound(at, `${formatKeyPath(path.slice(0, depth))} is a list; use an index such as [0]`);
    const elements = node.items.filter((i): i is Node => i.type !== 'comment');
    const target = elements[index];
    if (target === undefined) throw notFound(at, `the list ${formatKeyPath(path.slice(0, depth))} has ${elements.length} element(s)`);
    const value = last ? leaf(target, at) : update(target, path, depth + 1, leaf, create);
    return { ...node, items: node.items.map((i) => (i === target ? value : i)) } as ListNode;
  }
  throw new WithSecretsError('value-not-scalar', `${formatKeyPath(path.slice(0, depth))} holds a single value, so ${formatKeyPath(at)} cannot be below it`, {
    hint: 'choose another name, or remove the value first',
  });
}

/** Builds the maps a new key needs below `path[depth-1]`. */
function buildNew(path: readonly PathSegment[], depth: number, leaf: (old: Node | undefined, at: readonly PathSegment[]) => Node): Node {
  const seg = path[depth]!;
  const at = path.slice(0, depth + 1);
  if (typeof seg !== 'string') throw notFound(at, 'a list index cannot create a list');
  const value = depth === path.length - 1 ? leaf(undefined, at) : buildNew(path, depth + 1, leaf);
  return { type: 'map', items: [{ type: 'entry', key: seg, value }] };
}

function removeAt(node: Node, path: readonly PathSegment[], depth: number): Node {
  const seg = path[depth]!;
  const at = path.slice(0, depth + 1);
  const last = depth === path.length - 1;
  if (node.type === 'map') {
    const existing = typeof seg === 'string' ? findEntry(node, seg) : undefined;
    if (existing === undefined) throw notFound(at);
    if (last) return { ...node, items: node.items.filter((i) => i !== existing) };
    const value = removeAt(existing.value, path, depth + 1);
    return { ...node, items: node.items.map((i) => (i === existing ? { ...existing, value } : i)) };
  }
  if (node.type === 'list') {
    const elements = node.items.filter((i): i is Node => i.type !== 'comment');
    const index = indexOf(seg);
    const target = index === undefined ? undefined : elements[index];
    if (target === undefined) throw notFound(at);
    if (last) return { ...node, items: node.items.filter((i) => i !== target) as (Node | Comment)[] };
    const value = removeAt(target, path, depth + 1);
    return { ...node, items: node.items.map((i) => (i === target ? value : i)) };
  }
  throw notFound(at);
}

function notFound(at: readonly PathSegment[], why?: string): WithSecretsError {
  return new WithSecretsError('key-not-found', `no value at ${formatKeyPath(at)}${why === undefined ? '' : ` (${why})`}`, {
    hint: 'run `with-secrets secret list` to see the names in the file',
  });
}
