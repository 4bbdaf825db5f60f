// The in-memory shape of a sops document: ordered branches of typed leaves and comments, as sops' TreeBranch.

/** The `type:` names of sops' value codec. */
export type ValueType = 'str' | 'int' | 'float' | 'bool' | 'time' | 'bytes' | 'comment';

/**
 * A leaf. `int` keeps its decimal text so 64-bit values survive; `time` keeps the text sops
 * prints (RFC3339Nano); `bytes` only comes from decrypting legacy values.
 */
export type Scalar =
  | { readonly type: 'str'; readonly value: string }
  | { readonly type: 'int'; readonly value: string }
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'time'; readonly value: string }
  | { readonly type: 'bytes'; readonly value: Uint8Array }
  | { readonly type: 'null' };

/** A comment line (text after `#`, leading space kept). Comments are items, in maps and lists alike. */
export interface Comment {
  readonly type: 'comment';
  readonly value: string;
  /** A YAML line comment that sat after a scalar value on the same line (sops ≥ 3.13). */
  readonly inline?: boolean;
}

/** One key and its value inside a map. */
export interface Entry {
  readonly type: 'entry';
  readonly key: string;
  readonly value: Node;
}

/** An ordered map; order matters because the MAC is order sensitive. */
export interface MapNode {
  readonly type: 'map';
  readonly items: ReadonlyArray<Entry | Comment>;
}

/** A list; its elements do not add to the additional-data path. */
export interface ListNode {
  readonly type: 'list';
  readonly items: ReadonlyArray<Node | Comment>;
}

/** Any value in the tree. */
export type Node = MapNode | ListNode | Scalar;

/** The stores sops has, named as its `--input-type`/`--output-type` flags name them. */
export type StoreFormat = 'yaml' | 'json' | 'dotenv' | 'ini' | 'binary';

/** Builds a string leaf. */
export const str = (value: string): Scalar => ({ type: 'str', value });

/** Builds a map entry. */
export const entry = (key: string, value: Node): Entry => ({ type: 'entry', key, value });

/** Builds a map from entries and comments. */
export const map = (items: ReadonlyArray<Entry | Comment>): MapNode => ({ type: 'map', items });

/** True when the node is a leaf (not a map or list). */
export function isScalar(node: Node): node is Scalar {
  return node.type !== 'map' && node.type !== 'list';
}
