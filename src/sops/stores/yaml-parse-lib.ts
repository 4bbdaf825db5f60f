// Parses YAML with the `yaml` package into the positioned form of yaml-ir.ts (the full-syntax path).

import { Alias, Composer, isAlias, isMap, isPair, isScalar, isSeq, Parser, Scalar as YScalar } from 'yaml';
import type { Document, Node as YNode, YAMLError } from 'yaml';
import type { Scalar } from '../tree.js';
import { MAX_DEPTH } from './limits.js';
import { LineIndex, malformed } from './malformed.js';
import type { IrComment, IrDocument, IrNode, IrPair } from './yaml-ir.js';
import { resolvePlain } from './yaml-scalar.js';

const TAG = 'tag:yaml.org,2002:';

/**
 * Parses every document of `text`. Syntax errors become `malformed` errors with line and column
 * only: the `yaml` package's messages quote the input, so they stay in `cause`.
 */
export function parseYamlDocuments(text: string, source: string, lines: LineIndex = new LineIndex(text)): IrDocument[] {
  let docs: Document.Parsed[];
  try {
    // uniqueKeys: false because the package's own check is quadratic; yaml-ir.ts checks in one pass.
    const composer = new Composer({ schema: 'failsafe', uniqueKeys: false, strict: true, prettyErrors: false });
    docs = [...composer.compose(new Parser().parse(text), true, text.length)];
  } catch (e) {
    if (e instanceof RangeError) throw malformed(source, undefined, 'invalid YAML: nesting too deep', { cause: e });
    throw e;
  }
  const out: IrDocument[] = [];
  let prevEnd = 0;
  docs.forEach((doc, i) => {
    const err: YAMLError | undefined = doc.errors[0];
    if (err !== undefined) {
      const offset = err.pos[0];
      throw malformed(source, { line: lines.line(offset), column: lines.column(offset) }, `invalid YAML (${describeCode(err.code)})`, {
        cause: err,
      });
    }
    const end = i === docs.length - 1 ? text.length : doc.range[2];
    out.push(new DocumentReader(text, source, lines).read(doc, prevEnd, end));
    prevEnd = end;
  });
  return out;
}

function describeCode(code: string): string {
  return code.toLowerCase().replaceAll('_', ' ');
}

class DocumentReader {
  private readonly anchors = new Map<string, IrNode>();
  /** Lines inside multi-line scalars, where `#` is content, not a comment. */
  private readonly contentLines = new Set<number>();

  constructor(
    private readonly text: string,
    private readonly source: string,
    private readonly lines: LineIndex,
  ) {}

  read(doc: Document.Parsed, start: number, end: number): IrDocument {
    const contents = doc.contents as YNode | null;
    const root = contents === null ? undefined : this.node(contents, 1);
    const rootLine = contents === null || contents.range == null ? this.lines.line(start) : this.lines.line(contents.range[0]);
    return { root, rootLine, comments: this.comments(start, end) };
  }

  private comments(start: number, end: number): IrComment[] {
    const out: IrComment[] = [];
    if (start >= end) return out;
    const first = this.lines.line(start);
    const last = this.lines.line(Math.max(start, end - 1));
    for (let line = first; line <= last; line++) {
      if (this.contentLines.has(line)) continue;
      const s = this.lines.lineStart(line);
      let i = s;
      while (this.text[i] === ' ' || this.text[i] === '\t') i++;
      if (this.text[i] !== '#') continue;
      let e = this.text.indexOf('\n', i);
      if (e === -1) e = this.text.length;
      if (this.text[e - 1] === '\r') e--;
      out.push({ line, col: i - s, text: this.text.slice(i + 1, e) });
    }
    return out;
  }

  /** The comment after `offset` on the same line, if only blanks (and, after a key, a `:`) come first. */
  private trailing(offset: number, allowColon = false): string | undefined {
    const t = this.text;
    let i = offset;
    while (t[i] === ' ' || t[i] === '\t') i++;
    if (allowColon && t[i] === ':') {
      i++;
      while (t[i] === ' ' || t[i] === '\t') i++;
    }
    if (t[i] !== '#' || (i > 0 && t[i - 1] !== ' ' && t[i - 1] !== '\t')) return undefined;
    let e = t.indexOf('\n', i);
    if (e === -1) e = t.length;
    if (t[e - 1] === '\r') e--;
    return t.slice(i + 1, e);
  }

  /** The comment after a block scalar's header (`| # c`), which yaml.v3 reads as its line comment. */
  private blockHeaderComment(offset: number): string | undefined {
    const m = /^[|>][-+0-9]*/.exec(this.text.slice(offset, offset + 8));
    return m === null ? undefined : this.trailing(offset + m[0].length);
  }

  private pos(n: YNode): { line: number; col: number } {
    const off = n.range?.[0] ?? 0;
    return { line: this.lines.line(off), col: this.lines.column(off) - 1 };
  }

  private node(n: YNode, depth: number): IrNode {
    if (depth > MAX_DEPTH) throw malformed(this.source, { line: this.pos(n).line }, `nesting deeper than ${MAX_DEPTH} levels`);
    const { line, col } = this.pos(n);
    let ir: IrNode;
    if (isAlias(n)) {
      const target = this.anchors.get((n as Alias).source);
      if (target === undefined) throw malformed(this.source, { line }, 'an alias refers to an unknown anchor');
      return { kind: 'alias', target, line, col, comment: this.trailing(n.range?.[1] ?? 0) };
    }
    if (isScalar(n)) {
      const range = n.range ?? [0, 0, 0];
      const endLine = this.lines.line(Math.max(range[0], range[1] - 1));
      for (let l = line + 1; l <= endLine; l++) this.contentLines.add(l);
      // A block scalar ends at the start of a line, where a trailing comment cannot be.
      const block = n.type === 'BLOCK_LITERAL' || n.type === 'BLOCK_FOLDED';
      ir = { kind: 'scalar', value: this.scalar(n, line), line, col, comment: block ? this.blockHeaderComment(range[0]) : this.trailing(range[1]) };
    } else if (isMap(n)) {
      const pairs: IrPair[] = [];
      const items = n.items;
      // The map's own start: its first key, or the `?` of an explicit first key.
      const placeholder = { kind: 'map' as const, line, col, flow: n.flow === true, pairs };
      if (n.anchor !== undefined) this.anchors.set(n.anchor, placeholder);
      for (const p of items) {
        if (!isPair(p)) continue;
        const k = p.key;
        if (!isNodeLike(k)) throw malformed(this.source, { line }, 'a map key is empty');
        let keyNode: YNode = k;
        if (isAlias(k)) {
          const target = this.anchors.get((k as Alias).source);
          if (target === undefined || target.kind !== 'scalar') {
            throw malformed(this.source, { line: this.pos(k).line }, 'a map key is an alias of a collection');
          }
          pairs.push(this.pair(target.value, k, p.value, depth));
          continue;
        }
        if (!isScalar(keyNode)) throw malformed(this.source, { line: this.pos(k).line }, 'a map key is a collection; sops only supports string keys');
        const keyIr = this.node(keyNode, depth + 1) as { kind: 'scalar'; value: Scalar };
        pairs.push(this.pair(keyIr.value, keyNode, p.value, depth));
      }
      return placeholder;
    } else if (isSeq(n)) {
      const items: IrNode[] = [];
      const placeholder = { kind: 'seq' as const, line, col, flow: n.flow === true, items };
      if (n.anchor !== undefined) this.anchors.set(n.anchor, placeholder);
      for (const it of n.items) {
        if (isNodeLike(it)) items.push(this.node(it, depth + 1));
        else items.push({ kind: 'scalar', value: { type: 'null' }, line, col });
      }
      return placeholder;
    } else {
      throw malformed(this.source, { line }, 'unsupported YAML node');
    }
    if (n.anchor !== undefined) this.anchors.set(n.anchor, ir);
    return ir;
  }

  private pair(key: Scalar, keyNode: YNode, value: unknown, depth: number): IrPair {
    const { line, col } = this.pos(keyNode);
    const keyEnd = keyNode.range?.[1] ?? 0;
    if (!isNodeLike(value)) {
      // `key:` with nothing after it: a null value; a comment after the colon is its line comment.
      return { key, line, col, value: { kind: 'scalar', value: { type: 'null' }, line, col, comment: this.trailing(keyEnd, true) } };
    }
    const v = this.node(value, depth + 1);
    let comment: string | undefined;
    if (v.kind === 'map' || v.kind === 'seq') {
      // `key: # c` above a block collection, or `key: [a, b] # c` after a flow one.
      comment = this.trailing(keyEnd, true);
      if (comment === undefined && (value as { flow?: boolean }).flow === true) comment = this.trailing(value.range?.[1] ?? 0);
    }
    return { key, line, col, comment, value: v };
  }

  private scalar(n: YScalar, line: number): Scalar {
    const text = typeof n.value === 'string' ? n.value : String(n.value ?? '');
    const tag = n.tag;
    const plain = n.type === 'PLAIN' || n.type === undefined;
    if (tag === undefined) return plain ? resolvePlain(text) : { type: 'str', value: text };
    if (tag === TAG + 'str' || tag === '!') return { type: 'str', value: text };
    if (tag === TAG + 'binary') return { type: 'str', value: Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('utf8') };
    const want = tag.startsWith(TAG) ? tag.slice(TAG.length) : undefined;
    if (want === undefined || !['int', 'float', 'bool', 'null', 'timestamp'].includes(want)) return { type: 'str', value: text };
    const got = resolvePlain(text);
    const gotName = got.type === 'time' ? 'timestamp' : got.type;
    if (gotName === want) return got;
    if (want === 'float' && got.type === 'int') return { type: 'float', value: Number(got.value) };
    throw malformed(this.source, { line }, `a value tagged !!${want} cannot be read as one`);
  }
}

function isNodeLike(v: unknown): v is YNode {
  return typeof v === 'object' && v !== null && (isScalar(v) || isMap(v) || isSeq(v) || isAlias(v));
}
