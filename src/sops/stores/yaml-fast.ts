// A fast reader for the block-style YAML subset sops writes and people commonly hand-write; anything else is left to the `yaml` package.

import type { Scalar } from '../tree.js';
import type { IrComment, IrDocument, IrMap, IrNode, IrPair, IrScalar, IrSeq } from './yaml-ir.js';
import { resolvePlain } from './yaml-scalar.js';

/** Thrown inside the reader when the input leaves the subset; never escapes this module. */
const BAIL = Symbol('bail');

/**
 * Parses `text` into the same positioned documents as the `yaml` package path, or returns
 * undefined when the text uses anything outside the subset (flow collections, anchors, tags,
 * folded or indented-indicator block scalars, multi-line plain or quoted scalars, tabs, CR, BOM,
 * directives, complex keys…) or is not valid YAML — the full parser then decides, and reports errors.
 * The `yaml` package takes ~3 s for 10 MB; this reader takes a small fraction of that.
 */
export function parseYamlFast(text: string): IrDocument[] | undefined {
  if (/[\t\r\ufeff\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u0085\u2028\u2029]/.test(text)) return undefined;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  try {
    return new FastReader(lines).stream();
  } catch (e) {
    if (e === BAIL) return undefined;
    if (e instanceof RangeError) return undefined; // too deep for recursion here; the full parser reports it
    throw e;
  }
}

function bail(): never {
  throw BAIL;
}

function indentOf(line: string): number {
  let i = 0;
  while (line.charCodeAt(i) === 0x20) i++;
  return i;
}

const isSeqItemAt = (line: string, col: number): boolean =>
  line.charCodeAt(col) === 0x2d /* - */ && (col + 1 === line.length || line.charCodeAt(col + 1) === 0x20);

class FastReader {
  private i = 0;
  private comments: IrComment[] = [];

  constructor(private readonly lines: readonly string[]) {}

  stream(): IrDocument[] {
    const docs: IrDocument[] = [];
    const n = this.lines.length;
    let root: IrNode | undefined;
    let rootLine = 1;
    let started = false;
    for (;;) {
      this.skipNoise();
      if (this.i >= n) break;
      const line = this.lines[this.i]!;
      if (line === '---') {
        if (started || root !== undefined) {
          docs.push({ root, rootLine, comments: this.comments });
          this.comments = [];
          root = undefined;
        }
        started = true;
        this.i++;
        continue;
      }
      if (line.startsWith('---') || line.startsWith('...') || line.startsWith('%')) bail();
      if (root !== undefined) bail();
      rootLine = this.i + 1;
      root = this.block(indentOf(line), -1);
      started = true;
    }
    if (started || root !== undefined || this.comments.length > 0) docs.push({ root, rootLine, comments: this.comments });
    return docs;
  }

  /** Skips blank lines and records comment lines, stopping at content, `---` or the end. */
  private skipNoise(): void {
    const lines = this.lines;
    while (this.i < lines.length) {
      const line = lines[this.i]!;
      const ind = indentOf(line);
      if (ind === line.length) {
        if (ind > 0) bail(); // whitespace-only lines: leave their subtleties to the full parser
        this.i++;
        continue;
      }
      if (line.charCodeAt(ind) !== 0x23 /* # */) return;
      this.comments.push({ line: this.i + 1, col: ind, text: line.slice(ind + 1) });
      this.i++;
    }
  }

  /** A block collection whose first line (this.i) is indented `col`, nested in something indented `parent`. */
  private block(col: number, parent: number): IrNode {
    if (col <= parent) bail();
    const line = this.lines[this.i]!;
    if (isSeqItemAt(line, col)) return this.seq(col);
    return this.map(col, col);
  }

  private atEnd(): boolean {
    return this.i >= this.lines.length || this.lines[this.i] === '---' || this.lines[this.i]!.startsWith('---') || this.lines[this.i]!.startsWith('...');
  }

  /** A block map with keys at column `col`; its first key starts at `firstAt` on the current line. */
  private map(col: number, firstAt: number): IrMap {
    const pairs: IrPair[] = [];
    const m: IrMap = { kind: 'map', line: this.i + 1, col, pairs };
    let at = firstAt;
    for (;;) {
      const line = this.lines[this.i]!;
      if (isSeqItemAt(line, at)) bail();
      pairs.push(this.pair(line, at, col));
      this.skipNoise();
      if (this.atEnd()) return m;
      const ind = indentOf(this.lines[this.i]!);
      if (ind < col) return m;
      if (ind > col) bail();
      at = col;
    }
  }

  private pair(line: string, at: number, col: number): IrPair {
    const keyLine = this.i + 1;
    const k = readKey(line, at);
    if (k === undefined) bail();
    const { key, after } = k;
    let p = after;
    while (line.charCodeAt(p) === 0x20) p++;
    if (p === line.length || line.charCodeAt(p) === 0x23) {
      const comment = p === line.length ? undefined : line.slice(p + 1);
      if (comment !== undefined && p === after) bail(); // `key:#` is not a comment
      this.i++;
      this.skipNoise();
      if (!this.atEnd()) {
        const next = this.lines[this.i]!;
        const ind = indentOf(next);
        if (ind > col) return { key, line: keyLine, col: at, comment, value: this.block(ind, col) };
        if (ind === col && isSeqItemAt(next, ind)) return { key, line: keyLine, col: at, comment, value: this.seq(ind) };
      }
      const value: IrScalar = { kind: 'scalar', value: { type: 'null' }, line: keyLine, col: after, comment };
      return { key, line: keyLine, col: at, value };
    }
    return { key, line: keyLine, col: at, value: this.scalarValue(line, p, col) };
  }

  /** A block sequence with `-` at column `col`. */
  private seq(col: number): IrSeq {
    const items: IrNode[] = [];
    const s: IrSeq = { kind: 'seq', line: this.i + 1, col, items };
    for (;;) {
      const line = this.lines[this.i]!;
      let p = col + 1;
      while (line.charCodeAt(p) === 0x20) p++;
      if (p === line.length || line.charCodeAt(p) === 0x23) bail(); // empty item or comment after `-`
      if (isSeqItemAt(line, p)) bail(); // `- - x`
      if (readKey(line, p) !== undefined) items.push(this.map(p, p));
      else items.push(this.scalarValue(line, p, col));
      this.skipNoise();
      if (this.atEnd()) return s;
      const next = this.lines[this.i]!;
      const ind = indentOf(next);
      if (ind < col) return s;
      if (ind > col) bail();
      if (!isSeqItemAt(next, col)) return s;
    }
  }

  /** A scalar starting at `p` of the current line, owned by a collection at column `owner`. */
  private scalarValue(line: string, p: number, owner: number): IrScalar | IrSeq | IrMap {
    const startLine = this.i + 1;
    const c = line[p]!;
    let value: Scalar;
    let end: number;
    if (c === '|') {
      return this.literal(line, p, owner);
    } else if ((c === '[' || c === '{') && /^(?:\[\]|\{\}) *$/.test(line.slice(p))) {
      // `[]` and `{}`: the empty collections sops ≤ 3.9 wrote for unused key types.
      this.i++;
      this.afterScalar(owner);
      return c === '[' ? { kind: 'seq', line: startLine, col: p, flow: true, items: [] } : { kind: 'map', line: startLine, col: p, flow: true, pairs: [] };
    } else if (c === '"' || c === "'") {
      const q = c === '"' ? readDoubleQuoted(line, p) : readSingleQuoted(line, p);
      if (q === undefined) bail();
      value = { type: 'str', value: q.value };
      end = q.end;
    } else {
      if ('[]{}#&*!|>\'"%@`,'.includes(c)) bail();
      const next = line.charCodeAt(p + 1);
      if ((c === '-' || c === '?' || c === ':') && (Number.isNaN(next) || next === 0x20)) bail();
      let j = p;
      const len = line.length;
      for (; j < len; j++) {
        const ch = line.charCodeAt(j);
        if (ch === 0x3a /* : */ && (j + 1 === len || line.charCodeAt(j + 1) === 0x20)) bail();
        if (ch === 0x20 && line.charCodeAt(j + 1) === 0x23) break;
      }
      let e = j;
      while (e > p && line.charCodeAt(e - 1) === 0x20) e--;
      value = resolvePlain(line.slice(p, e));
      end = e;
    }
    let k = end;
    while (line.charCodeAt(k) === 0x20) k++;
    let comment: string | undefined;
    if (k < line.length) {
      if (line.charCodeAt(k) !== 0x23 || k === end) bail();
      comment = line.slice(k + 1);
    }
    this.i++;
    this.afterScalar(owner);
    return { kind: 'scalar', value, line: startLine, col: p, comment };
  }

  /** After a one-line scalar, a more indented line would continue it (or be an error): leave that to the full parser. */
  private afterScalar(owner: number): void {
    this.skipNoise();
    if (this.atEnd()) return;
    if (indentOf(this.lines[this.i]!) > owner) bail();
  }

  /** A `|`, `|-` or `|+` literal block whose content is indented more than `owner`. */
  private literal(line: string, p: number, owner: number): IrScalar {
    const startLine = this.i + 1;
    const h = /^\|([-+]?)(?: +#(.*))?$/.exec(line.slice(p));
    if (h === null) bail();
    const chomp = h[1];
    const comment = h[2];
    const lines = this.lines;
    let j = this.i + 1;
    let contentIndent = -1;
    const body: string[] = [];
    for (; j < lines.length; j++) {
      const l = lines[j]!;
      if (l.length === 0) {
        body.push('');
        continue;
      }
      const ind = indentOf(l);
      if (ind === l.length) bail();
      if (contentIndent === -1) {
        if (ind <= owner) break;
        contentIndent = ind;
      }
      if (ind < contentIndent) break;
      body.push(l.slice(contentIndent));
    }
    if (contentIndent === -1) bail();
    let k = body.length;
    while (k > 0 && body[k - 1] === '') k--;
    const core = body.slice(0, k).join('\n');
    let text: string;
    if (chomp === '-') text = core;
    else if (chomp === '+') text = core + '\n' + '\n'.repeat(body.length - k);
    else text = core + '\n';
    this.i = j;
    this.afterScalar(owner);
    return { kind: 'scalar', value: { type: 'str', value: text }, line: startLine, col: p, comment };
  }
}

/** A key at `p`: plain (up to `: `) or quoted, followed by `:` and a space or the line end. */
function readKey(line: string, p: number): { key: Scalar; after: number } | undefined {
  const c = line[p];
  if (c === undefined) return undefined;
  if (c === '"' || c === "'") {
    const q = c === '"' ? readDoubleQuoted(line, p) : readSingleQuoted(line, p);
    if (q === undefined) return undefined;
    let k = q.end;
    while (line.charCodeAt(k) === 0x20) k++;
    if (line.charCodeAt(k) !== 0x3a || (k + 1 < line.length && line.charCodeAt(k + 1) !== 0x20)) return undefined;
    if (q.end - p > 1000) return undefined;
    return { key: { type: 'str', value: q.value }, after: k + 1 };
  }
  if ('[]{}#&*!|>%@`,'.includes(c)) return undefined;
  const next = line.charCodeAt(p + 1);
  if ((c === '-' || c === '?' || c === ':') && (Number.isNaN(next) || next === 0x20)) return undefined;
  const len = line.length;
  for (let j = p; j < len; j++) {
    const ch = line.charCodeAt(j);
    if (ch === 0x20 && line.charCodeAt(j + 1) === 0x23) return undefined;
    if (ch === 0x3a && (j + 1 === len || line.charCodeAt(j + 1) === 0x20)) {
      let e = j;
      while (e > p && line.charCodeAt(e - 1) === 0x20) e--;
      if (e === p || e - p > 1000) return undefined;
      return { key: resolvePlain(line.slice(p, e)), after: j + 1 };
    }
  }
  return undefined;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
};

function readDoubleQuoted(line: string, p: number): { value: string; end: number } | undefined {
  let out = '';
  let j = p + 1;
  for (;;) {
    const q = line.indexOf('"', j);
    const b = line.indexOf('\\', j);
    if (q === -1) return undefined;
    if (b === -1 || b > q) {
      out += line.slice(j, q);
      return { value: out, end: q + 1 };
    }
    out += line.slice(j, b);
    const e = line[b + 1];
    if (e === undefined) return undefined;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      j = b + 2;
      continue;
    }
    const width = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (width === 0) return undefined;
    const hex = line.slice(b + 2, b + 2 + width);
    if (hex.length !== width || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
    const cp = parseInt(hex, 16);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
    out += String.fromCodePoint(cp);
    j = b + 2 + width;
  }
}

function readSingleQuoted(line: string, p: number): { value: string; end: number } | undefined {
  let out = '';
  let j = p + 1;
  for (;;) {
    const q = line.indexOf("'", j);
    if (q === -1) return undefined;
    out += line.slice(j, q);
    if (line[q + 1] === "'") {
      out += "'";
      j = q + 2;
      continue;
    }
    return { value: out, end: q + 1 };
  }
}
