// The parsed shape of a YAML document with source positions, and its conversion to a sops tree with comments placed as sops places them.

import type { Comment, Entry, ListNode, MapNode, Node, Scalar } from '../tree.js';
import { MAX_DEPTH } from './limits.js';
import { malformed } from './malformed.js';

/** A full-line comment: 1-based line, 0-based column of `#`, and the text after `#`. */
export interface IrComment {
  readonly line: number;
  readonly col: number;
  readonly text: string;
}

/** A leaf with its typed value; `comment` is a comment on the same line after it. */
export interface IrScalar {
  readonly kind: 'scalar';
  readonly value: Scalar;
  readonly line: number;
  readonly col: number;
  readonly comment?: string | undefined;
}

/** One key of a map. `comment` sits on the key's line when the value is a collection below it. */
export interface IrPair {
  readonly key: Scalar;
  readonly line: number;
  readonly col: number;
  readonly comment?: string | undefined;
  readonly value: IrNode;
}

/** A map; `col` is the column of its keys (or of `{`). */
export interface IrMap {
  readonly kind: 'map';
  readonly line: number;
  readonly col: number;
  /** Written `{…}`: comments after it belong to the enclosing collection. */
  readonly flow?: boolean;
  readonly pairs: readonly IrPair[];
}

/** A sequence; `col` is the column of its `-` (or of `[`). */
export interface IrSeq {
  readonly kind: 'seq';
  readonly line: number;
  readonly col: number;
  /** Written `[…]`: comments after it belong to the enclosing collection. */
  readonly flow?: boolean;
  readonly items: readonly IrNode[];
}

/** A use of an anchored node (`*name`), expanded on conversion. */
export interface IrAlias {
  readonly kind: 'alias';
  readonly target: IrNode;
  readonly line: number;
  readonly col: number;
  readonly comment?: string | undefined;
}

/** Any node. */
export type IrNode = IrMap | IrSeq | IrScalar | IrAlias;

/** One YAML document: its root (undefined for an empty or null document) and its full-line comments in line order. */
export interface IrDocument {
  readonly root: IrNode | undefined;
  readonly rootLine: number;
  readonly comments: readonly IrComment[];
}

/** Nodes that alias expansion may add beyond this many plus the nodes written out in the file. */
const ALIAS_EXPANSION_ALLOWANCE = 100_000;

/**
 * Converts parsed documents into sops branches. Comments go where sops/yaml.v3 put them: lines
 * above a key (or list item) become comment items before it, a comment after a scalar on its line
 * becomes an `inline` item before its entry, and comments after the last item of a collection at
 * that collection's indentation become its trailing items. Aliases are expanded (their comments
 * are not copied). Duplicate keys and keys that are not strings are `malformed`.
 */
export function buildBranches(docs: readonly IrDocument[], source: string): MapNode[] {
  const builder = new TreeBuilder(source);
  return docs.map((d) => builder.document(d));
}

class TreeBuilder {
  private comments: readonly IrComment[] = [];
  private next = 0;
  private direct = 0;
  private expanded = 0;

  constructor(private readonly source: string) {}

  document(doc: IrDocument): MapNode {
    this.comments = doc.comments;
    this.next = 0;
    const root = doc.root;
    if (root === undefined || (root.kind === 'scalar' && root.value.type === 'null')) {
      const items: Comment[] = [];
      this.takeBefore(Number.POSITIVE_INFINITY, items);
      return { type: 'map', items };
    }
    const target = root.kind === 'alias' ? root.target : root;
    if (target.kind !== 'map') {
      const what = target.kind === 'seq' ? 'a sequence' : 'a single value';
      throw malformed(this.source, { line: doc.rootLine }, `a YAML document that is ${what} is not supported; it must be a map`);
    }
    if (root.kind === 'alias') return { type: 'map', items: this.map(target, Number.POSITIVE_INFINITY, 0, 1, true).items };
    return this.map(target, Number.POSITIVE_INFINITY, 0, 1, false);
  }

  /** Appends to `out` the comments before `line`, whatever their column. */
  private takeBefore(line: number, out: Array<Entry | Comment | Node>): void {
    const cs = this.comments;
    while (this.next < cs.length && cs[this.next]!.line < line) {
      out.push({ type: 'comment', value: cs[this.next]!.text });
      this.next++;
    }
  }

  /** Appends consecutive comments before `bound` indented at least `minCol` (a collection's trailing comments). */
  private takeFoot(bound: number, minCol: number, out: Array<Entry | Comment | Node>): void {
    const cs = this.comments;
    for (;;) {
      const c = cs[this.next];
      if (c === undefined || c.line >= bound || c.col < minCol) return;
      out.push({ type: 'comment', value: c.text });
      this.next++;
    }
  }

  private count(detached: boolean, line: number): void {
    if (!detached) {
      this.direct++;
      return;
    }
    this.expanded++;
    if (this.expanded > ALIAS_EXPANSION_ALLOWANCE + this.direct) {
      throw malformed(this.source, { line }, 'excessive aliasing: alias expansion would create too many nodes');
    }
  }

  private node(n: IrNode, bound: number, footCol: number, depth: number, detached: boolean): Node {
    if (depth > MAX_DEPTH) throw malformed(this.source, { line: n.line }, `nesting deeper than ${MAX_DEPTH} levels`);
    this.count(detached, n.line);
    switch (n.kind) {
      case 'scalar':
        return n.value;
      case 'map':
        return this.map(n, bound, footCol, depth, detached);
      case 'seq':
        return this.seq(n, bound, footCol, depth, detached);
      case 'alias':
        // An alias of an enclosing node recurses until the depth or expansion limit stops it.
        return this.node(n.target, bound, footCol, depth, true);
    }
  }

  private map(m: IrMap, bound: number, footCol: number, depth: number, detached: boolean): MapNode {
    const items: Array<Entry | Comment> = [];
    // Comments between a key and a flow map on a later line (`a:` / `# c` / `{}`) are inside it.
    if (m.flow === true && !detached) this.takeBefore(m.line, items);
    const seen = detached ? undefined : new Map<string, number>();
    const pairs = m.pairs;
    for (let i = 0; i < pairs.length; i++) {
      const p = pairs[i]!;
      const nextLine = i + 1 < pairs.length ? pairs[i + 1]!.line : bound;
      if (p.key.type !== 'str') {
        throw malformed(this.source, { line: p.line }, `a map key is ${describe(p.key)}, not a string; sops only supports string keys`, {
          hint: 'quote the key',
        });
      }
      const key = p.key.value;
      if (seen !== undefined) {
        const first = seen.get(key);
        if (first !== undefined) {
          throw malformed(this.source, { line: p.line }, `duplicate key ${JSON.stringify(key)} (first defined at line ${first})`);
        }
        seen.set(key, p.line);
      }
      const v = p.value;
      const leaf = v.kind === 'scalar' || v.kind === 'alias';
      if (!detached) {
        this.takeBefore(p.line, items);
        if (leaf && v.comment !== undefined) items.push({ type: 'comment', value: v.comment, inline: true });
        else if (!leaf && p.comment !== undefined) items.push({ type: 'comment', value: p.comment });
      }
      const childCol = v.kind === 'alias' || v.col > m.col ? v.col : m.col + 1;
      items.push({ type: 'entry', key, value: v.kind === 'scalar' ? this.leaf(v, depth + 1, detached) : this.node(v, nextLine, childCol, depth + 1, detached) });
    }
    if (!detached && m.flow !== true) {
      if (footCol === 0 && bound === Number.POSITIVE_INFINITY) this.takeBefore(bound, items);
      else this.takeFoot(bound, footCol, items);
    }
    return { type: 'map', items };
  }

  private leaf(v: IrScalar, depth: number, detached: boolean): Node {
    if (depth > MAX_DEPTH) throw malformed(this.source, { line: v.line }, `nesting deeper than ${MAX_DEPTH} levels`);
    this.count(detached, v.line);
    return v.value;
  }

  private seq(s: IrSeq, bound: number, footCol: number, depth: number, detached: boolean): ListNode {
    const items: Array<Node | Comment> = [];
    if (s.flow === true && !detached) this.takeBefore(s.line, items);
    const list = s.items;
    for (let i = 0; i < list.length; i++) {
      const v = list[i]!;
      const nextLine = i + 1 < list.length ? list[i + 1]!.line : bound;
      if (!detached) {
        this.takeBefore(v.line, items);
        if ((v.kind === 'scalar' || v.kind === 'alias') && v.comment !== undefined) {
          items.push({ type: 'comment', value: v.comment, inline: true });
        }
      }
      const childCol = v.kind === 'alias' || v.col > s.col ? v.col : s.col + 1;
      items.push(this.node(v, nextLine, childCol, depth + 1, detached));
    }
    if (!detached && s.flow !== true) this.takeFoot(bound, footCol, items);
    return { type: 'list', items };
  }
}

function describe(s: Scalar): string {
  switch (s.type) {
    case 'int':
      return 'an integer';
    case 'float':
      return 'a float';
    case 'bool':
      return 'a boolean';
    case 'null':
      return 'null';
    case 'time':
      return 'a timestamp';
    default:
      return 'not a string';
  }
}
