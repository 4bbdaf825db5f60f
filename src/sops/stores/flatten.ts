// Flattens the `sops` metadata map into single-level keys for dotenv and INI, and back (sops' stores/flatten.go).

import type { Entry, ListNode, MapNode, Node, Scalar } from '../tree.js';
import { malformed } from './malformed.js';
import { MAX_DEPTH } from './limits.js';

const MAP_SEP = '__map_';
const LIST_SEP = '__list_';

/** One flattened key with its leaf. */
export interface FlatEntry {
  readonly key: string;
  readonly value: Scalar;
}

/**
 * Flattens `metadata` with `prefix` (`sops_` for dotenv, empty for INI): nested maps join keys with
 * `__map_`, lists with `__list_<i>`. Map keys are sorted at every level first, as sops ≥ 3.13 does
 * (goToSops), which also gives the sorted dotenv layout of 3.8+. Comments are skipped.
 */
export function flattenMetadata(metadata: MapNode, prefix: string): FlatEntry[] {
  const out: FlatEntry[] = [];
  const seen = new Set<string>();
  const visit = (node: Node, key: string): void => {
    if (node.type === 'map') {
      const entries = node.items.filter((i): i is Entry => i.type === 'entry');
      entries.sort((a, b) => compareBytes(a.key, b.key));
      for (const e of entries) visit(e.value, key + MAP_SEP + e.key);
      return;
    }
    if (node.type === 'list') {
      let i = 0;
      for (const item of node.items) {
        if (item.type === 'comment') continue;
        visit(item, `${key}${LIST_SEP}${i}`);
        i++;
      }
      return;
    }
    if (seen.has(key)) throw malformed('metadata', undefined, `key collision ${JSON.stringify(key)} while flattening`);
    seen.add(key);
    out.push({ key, value: node });
  };
  const top = metadata.items.filter((i): i is Entry => i.type === 'entry');
  top.sort((a, b) => compareBytes(a.key, b.key));
  for (const e of top) visit(e.value, prefix + e.key);
  return out;
}

/** Go's sort.Strings order: byte-wise on UTF-8, which for these ASCII keys is code-unit order. */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

type Token = { readonly map: string } | { readonly list: number };

function tokenize(path: string): Token[] {
  const tokens: Token[] = [];
  let state: 'normal' | 'map' | 'list' = 'normal';
  let last = 0;
  const finish = (i: number): void => {
    if (state === 'normal') tokens.push({ map: path.slice(last, i) });
    else if (state === 'map') tokens.push({ map: path.slice(last + MAP_SEP.length, i) });
    else {
      // Go: strconv.Atoi with the error ignored, so a bad index reads as 0.
      const text = path.slice(last + LIST_SEP.length, i);
      tokens.push({ list: /^[+-]?\d+$/.test(text) && Number(text) <= Number.MAX_SAFE_INTEGER ? Number(text) : 0 });
    }
    last = i;
  };
  let i = 0;
  while (i < path.length) {
    if (path.startsWith(MAP_SEP, i)) {
      finish(i);
      state = 'map';
      i += MAP_SEP.length;
    } else if (path.startsWith(LIST_SEP, i)) {
      finish(i);
      state = 'list';
      i += LIST_SEP.length;
    } else i++;
  }
  finish(i);
  return tokens;
}

interface Slot {
  value?: Scalar;
  keys?: Map<string, Slot>;
  indices?: Map<number, Slot>;
}

/**
 * Rebuilds the nested metadata map from flattened keys (prefix already removed). Conflicting keys,
 * a key that is both a leaf and a branch, and lists with gaps are `malformed`. Maps come out with
 * sorted keys, lists in index order, leaves unchanged (strings; typing is the metadata reader's job).
 */
export function unflattenMetadata(entries: readonly FlatEntry[], source: string): MapNode {
  const root: Slot = {};
  for (const { key, value } of entries) {
    let slot = root;
    const tokens = tokenize(key);
    // Each part is a level of the rebuilt tree: bounded as every store bounds nesting (a crash otherwise).
    if (tokens.length > MAX_DEPTH) throw malformed(source, { path: ['sops'] }, `a metadata key is nested more than ${MAX_DEPTH} levels deep`);
    for (const t of tokens) {
      if ('map' in t) {
        slot.keys ??= new Map();
        let next = slot.keys.get(t.map);
        if (next === undefined) slot.keys.set(t.map, (next = {}));
        slot = next;
      } else {
        slot.indices ??= new Map();
        let next = slot.indices.get(t.list);
        if (next === undefined) slot.indices.set(t.list, (next = {}));
        slot = next;
      }
    }
    if (slot.value !== undefined) throw malformed(source, { path: ['sops', key] }, 'metadata key given twice');
    slot.value = value;
  }
  const convert = (slot: Slot, key: string): Node => {
    const kinds = Number(slot.value !== undefined) + Number((slot.keys?.size ?? 0) > 0) + Number((slot.indices?.size ?? 0) > 0);
    if (kinds > 1) throw malformed(source, { path: ['sops', key] }, 'metadata key is both a value and a map or list');
    if (slot.value !== undefined) return slot.value;
    if (slot.indices !== undefined && slot.indices.size > 0) {
      const n = slot.indices.size;
      const items: Node[] = [];
      for (let i = 0; i < n; i++) {
        const s = slot.indices.get(i);
        if (s === undefined) throw malformed(source, { path: ['sops', key] }, 'metadata list has a gap');
        items.push(convert(s, `${key}${LIST_SEP}${i}`));
      }
      return { type: 'list', items } satisfies ListNode;
    }
    const keys = [...(slot.keys?.keys() ?? [])].sort(compareBytes);
    return {
      type: 'map',
      items: keys.map((k) => ({ type: 'entry' as const, key: k, value: convert(slot.keys!.get(k)!, key === '' ? k : key + MAP_SEP + k) })),
    } satisfies MapNode;
  };
  return convert(root, '') as MapNode;
}

/**
 * A leaf as sops' ValToString prints it into dotenv and INI: floats with `%G` (and at least one
 * decimal), bools `true`/`false`, times RFC3339 (seconds only), strings as they are.
 */
export function valueToString(v: Scalar): string {
  switch (v.type) {
    case 'str':
    case 'int':
      return v.value;
    case 'bool':
      return v.value ? 'true' : 'false';
    case 'time':
      return v.value.replace(/\.\d+(?=Z|[+-]\d\d:\d\d$)/, '');
    case 'null':
      return '<nil>';
    case 'bytes':
      return `[${Array.from(v.value).join(' ')}]`;
    case 'float':
      return formatFloatG(v.value);
  }
}

function formatFloatG(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0.0' : '0.0';
  const [mant, expText] = Math.abs(f).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expText);
  const sign = f < 0 ? '-' : '';
  // %G with shortest precision: exponent form when exp < -4 || exp >= 6, as for %g.
  if (exp < -4 || exp >= 6) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    return `${sign}${m}E${exp < 0 ? '-' : '+'}${e < 10 ? '0' + e : e}`;
  }
  let text: string;
  if (exp < 0) text = '0.' + '0'.repeat(-exp - 1) + digits;
  else if (digits.length <= exp + 1) text = digits + '0'.repeat(exp + 1 - digits.length);
  else text = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  // ValToString: a result that looks like an integer gets one decimal ('f', 1).
  if (!text.includes('.')) text += '.0';
  return sign + text;
}
