// Writes sops branches as YAML the way sops does through yaml.v3 (indent 4, sequences indented, comments kept), without the `yaml` package.

import { WithSecretsError } from '../../errors.js';
import type { Comment, Entry, MapNode, Node, Scalar } from '../tree.js';
import { canBePlainString, formatYamlFloat } from './yaml-scalar.js';

/**
 * Prints `branches` as a YAML stream: documents separated by `---`, each a block map (an empty
 * branch is `{}`). Scalars are written as yaml.v3 writes them: strings that would read back as
 * another type double-quoted, strings it cannot write plain single- or double-quoted, multi-line
 * strings as `|` literal blocks; ints as decimal, floats as Go's `%g`, times as RFC3339Nano.
 */
export function emitYaml(branches: readonly MapNode[], indent = 4): string {
  if (!Number.isInteger(indent) || indent < 1 || indent > 9) {
    throw new WithSecretsError('usage', `YAML indentation must be an integer from 1 to 9, got ${indent}`);
  }
  const w = new YamlWriter(indent);
  branches.forEach((b, i) => {
    if (i > 0) w.out.push('---\n');
    w.document(b);
  });
  return w.out.join('');
}

/** Prints one scalar as yaml.v3 would on its own (for `--extract` of a leaf). */
export function emitYamlScalar(value: Scalar): string {
  const w = new YamlWriter(4);
  w.value(value, '', 0, 4, []);
  // value() writes the text after `key:`, which starts with a space.
  return w.out.join('').slice(1);
}

const SPACES: string[] = [];
const spaces = (n: number): string => (SPACES[n] ??= ' '.repeat(n));

/**
 * The column for comments above the first item of a collection whose first line starts with
 * `firstPrefix`: its own indentation when that prefix is only spaces, else the column of the
 * outermost `-` on that line. yaml.v3 writes the head comment of a map or list that is a list
 * element above that element's `-`, at the list's column; for a collection that is the first
 * element of a list that is itself a list element (`- - k: v`) it writes the comment after the
 * outer `-` (`- # c`), where neither of our readers (nor a person) can tell which node it is for.
 * Above the outermost `-` is the one unambiguous place: a comment there is read as a head comment
 * of that outer element, the same place sops' store gives comments that start a list element. A
 * comment at an inner `-` column would instead be read as the foot comment of the previous
 * element when that element is a collection at that column.
 */
function leadCommentColumn(firstPrefix: string): number {
  let n = 0;
  while (firstPrefix.charCodeAt(n) === 0x20) n++;
  return n;
}

class YamlWriter {
  readonly out: string[] = [];

  constructor(private readonly best: number) {}

  document(b: MapNode): void {
    if (!b.items.some((i) => i.type === 'entry')) {
      for (const c of b.items as readonly Comment[]) this.out.push(`#${c.value}\n`);
      this.out.push('{}\n');
      return;
    }
    this.map(b.items, 0, '');
  }

  /** Indentation of a collection or block scalar nested in a map value at `indent` (yaml.v3 rounds to the indent unit). */
  private nested(indent: number): number {
    return this.best * Math.floor((indent + this.best) / this.best);
  }

  /** A block map with keys at column `indent`; its first key line starts with `firstPrefix`. */
  map(items: ReadonlyArray<Entry | Comment>, indent: number, firstPrefix: string): void {
    let head: string[] = [];
    let inline: string[] = [];
    let first = true;
    const commentCol = leadCommentColumn(firstPrefix);
    for (const item of items) {
      if (item.type === 'comment') {
        (item.inline === true ? inline : head).push(item.value);
        continue;
      }
      for (const c of head) this.out.push(`${spaces(first ? commentCol : indent)}#${c}\n`);
      head = [];
      const prefix = first ? firstPrefix : spaces(indent);
      first = false;
      const key = this.key(item.key);
      if (key.complex) {
        this.out.push(`${prefix}? ${key.text}\n${spaces(indent)}:`);
      } else {
        this.out.push(`${prefix}${key.text}:`);
      }
      this.value(item.value, spaces(indent), indent, this.nested(indent), inline);
      inline = [];
    }
    for (const c of [...head, ...inline]) this.out.push(`${spaces(indent)}#${c}\n`);
  }

  /** A block sequence with `-` at column `indent`; its first item line starts with `firstPrefix`. */
  seq(items: ReadonlyArray<Node | Comment>, indent: number, firstPrefix: string): void {
    let head: string[] = [];
    let inline: string[] = [];
    let first = true;
    const commentCol = leadCommentColumn(firstPrefix);
    for (const item of items) {
      if (item.type === 'comment') {
        (item.inline === true ? inline : head).push(item.value);
        continue;
      }
      const above = spaces(first ? commentCol : indent);
      for (const c of head) this.out.push(`${above}#${c}\n`);
      head = [];
      const prefix = first ? firstPrefix : spaces(indent);
      first = false;
      if ((item.type === 'map' || item.type === 'list') && item.items.some((i) => i.type !== 'comment')) {
        // A collection inside `- ` starts on the same line, two columns in.
        for (const c of inline) this.out.push(`${above}#${c}\n`);
        if (item.type === 'map') this.map(item.items, indent + 2, `${prefix}- `);
        else this.seq(item.items, indent + 2, `${prefix}- `);
      } else {
        this.out.push(`${prefix}-`);
        this.value(item, spaces(indent), indent, indent + 2, inline);
      }
      inline = [];
    }
    for (const c of [...head, ...inline]) this.out.push(`${spaces(indent)}#${c}\n`);
  }

  /**
   * Writes a value after `key:` or `-` (already on the line). `lineIndent` is the indentation of
   * that line, `childIndent` where nested content goes, `inline` the line comments for it.
   */
  value(v: Node, lineIndent: string, ownerIndent: number, childIndent: number, inline: readonly string[]): void {
    const lineComment = (): string => (inline.length > 0 ? ` #${inline[0]}` : '');
    const restComments = (): void => {
      for (const c of inline.slice(1)) this.out.push(`${lineIndent}#${c}\n`);
    };
    if (v.type === 'map' || v.type === 'list') {
      const hasValues = v.items.some((i) => i.type !== 'comment');
      if (!hasValues) {
        const empty = v.type === 'map' ? '{}' : '[]';
        if (v.items.length === 0) {
          this.out.push(` ${empty}${lineComment()}\n`);
        } else {
          // Comments of an empty collection go on their own lines above it, at its indentation.
          this.out.push(`${lineComment()}\n`);
          for (const c of v.items as readonly Comment[]) this.out.push(`${spaces(childIndent)}#${c.value}\n`);
          this.out.push(`${spaces(childIndent)}${empty}\n`);
        }
        restComments();
        return;
      }
      this.out.push(`${lineComment()}\n`);
      restComments();
      if (v.type === 'map') this.map(v.items, childIndent, spaces(childIndent));
      else this.seq(v.items, childIndent, spaces(childIndent));
      return;
    }
    const s = this.scalar(v);
    if (s.literal === undefined) {
      this.out.push(` ${s.text}${lineComment()}\n`);
    } else {
      const content = spaces(childIndent);
      const hint = /^[ \n]/.test(s.literal) ? String(childIndent - ownerIndent) : '';
      this.out.push(` |${hint}${chomp(s.literal)}${lineComment()}\n`);
      const lines = s.literal.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      for (const l of lines) this.out.push(l === '' ? '\n' : `${content}${l}\n`);
    }
    restComments();
  }

  private key(k: string): { text: string; complex: boolean } {
    let text: string;
    if (k.includes('\n')) text = doubleQuoted(k);
    else text = this.stringText(k, true);
    // libyaml writes keys longer than 128 bytes as complex keys (`? key` / `: value`).
    return { text, complex: Buffer.byteLength(k, 'utf8') > 128 };
  }

  private scalar(v: Scalar): { text: string; literal?: string } {
    switch (v.type) {
      case 'str': {
        if (v.value.includes('\n')) {
          const a = analyze(v.value);
          if (a.blockAllowed) return { text: '', literal: v.value };
          return { text: doubleQuoted(v.value) };
        }
        return { text: this.stringText(v.value, false) };
      }
      case 'int':
        return { text: v.value };
      case 'float':
        return { text: formatYamlFloat(v.value) };
      case 'bool':
        return { text: v.value ? 'true' : 'false' };
      case 'null':
        return { text: 'null' };
      case 'time':
        return { text: v.value };
      case 'bytes':
        return { text: `!!binary ${Buffer.from(v.value).toString('base64')}` };
    }
  }

  /** A one-line string: plain when yaml.v3 would, else single- or double-quoted by libyaml's rules. */
  private stringText(s: string, isKey: boolean): string {
    if (!canBePlainString(s)) return doubleQuoted(s);
    const a = analyze(s);
    if (a.blockPlainAllowed && !(isKey && s.length === 0)) return s;
    if (a.singleAllowed) return `'${s.replaceAll("'", "''")}'`;
    return doubleQuoted(s);
  }
}

function chomp(s: string): string {
  if (!s.endsWith('\n')) return '-';
  if (s.length === 1 || s.endsWith('\n\n')) return '+';
  return '';
}

interface Analysis {
  blockPlainAllowed: boolean;
  singleAllowed: boolean;
  blockAllowed: boolean;
}

const isBreak = (c: number): boolean => c === 0x0a || c === 0x0d || c === 0x85 || c === 0x2028 || c === 0x2029;

/** yaml.v3's is_printable: note that tab, DEL, U+0085 and everything above U+FFFF are not. */
function isPrintable(c: number): boolean {
  return (
    c === 0x0a ||
    (c >= 0x20 && c <= 0x7e) ||
    (c >= 0xa0 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff)
  );
}

/** libyaml's yaml_emitter_analyze_scalar, for block context (flow-only indicators do not matter here). */
// Strings without spaces, breaks or special characters that start with no indicator: the common
// case (keys, ENC[…] values, base64), answered without the character loop below.
const SIMPLE_PLAIN = /^[A-Za-z0-9_./=+(<$^~\\][A-Za-z0-9_./=+()[\]{},;~$^<>!&*%@`'"|\\?#:-]*$/;

function analyze(s: string): Analysis {
  if (SIMPLE_PLAIN.test(s) && !s.endsWith(':') && !s.startsWith('...')) return { blockPlainAllowed: true, singleAllowed: true, blockAllowed: true };
  const n = s.length;
  let blockInd = s.startsWith('---') || s.startsWith('...');
  let lineBreaks = false;
  let special = false;
  let tabs = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let prevSpace = false;
  let prevBreak = false;
  let precededByWs = true;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    let width = 1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        width = 2;
      }
    }
    const last = i + width === n;
    const next = last ? -1 : s.charCodeAt(i + width);
    // is_blank: a space or a tab (a line break does not count here, as in yaml.v3).
    const followedByWs = next === -1 || next === 0x20 || next === 0x09;
    if (i === 0) {
      switch (c) {
        case 0x23: case 0x2c: case 0x5b: case 0x5d: case 0x7b: case 0x7d: case 0x26: case 0x2a:
        case 0x21: case 0x7c: case 0x3e: case 0x27: case 0x22: case 0x25: case 0x40: case 0x60:
          blockInd = true;
          break;
        case 0x3f: case 0x3a: case 0x2d:
          if (followedByWs) blockInd = true;
          break;
      }
    } else if ((c === 0x3a && followedByWs) || (c === 0x23 && precededByWs)) {
      blockInd = true;
    }
    // yaml.v3 counts tabs apart: they rule out plain and single-quoted styles but not literal blocks.
    if (c === 0x09) tabs = true;
    else if (!isPrintable(c)) special = true;
    const brk = isBreak(c);
    if (brk) lineBreaks = true;
    if (c === 0x20) {
      if (i === 0) leadingSpace = true;
      if (last) trailingSpace = true;
      if (prevBreak) breakSpace = true;
      prevSpace = true;
      prevBreak = false;
    } else if (brk) {
      if (i === 0) leadingBreak = true;
      if (last) trailingBreak = true;
      if (prevSpace) spaceBreak = true;
      prevBreak = true;
      prevSpace = false;
    } else {
      prevSpace = false;
      prevBreak = false;
    }
    precededByWs = c === 0x20 || c === 0x09 || brk;
    i += width - 1;
  }
  let blockPlain = true;
  let single = true;
  let block = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) blockPlain = false;
  if (trailingSpace) block = false;
  if (breakSpace) {
    blockPlain = false;
    single = false;
  }
  if (spaceBreak || tabs || special) {
    blockPlain = false;
    single = false;
  }
  if (spaceBreak || special) block = false;
  if (lineBreaks) {
    blockPlain = false;
    // Single quotes cannot carry a line break faithfully in our writer; libyaml folds them.
    single = false;
  }
  if (blockInd) blockPlain = false;
  return { blockPlainAllowed: blockPlain, singleAllowed: single, blockAllowed: block };
}

const ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x00, '0'],
  [0x07, 'a'],
  [0x08, 'b'],
  [0x09, 't'],
  [0x0a, 'n'],
  [0x0b, 'v'],
  [0x0c, 'f'],
  [0x0d, 'r'],
  [0x1b, 'e'],
  [0x22, '"'],
  [0x5c, '\\'],
  [0x85, 'N'],
  [0xa0, '_'],
  [0x2028, 'L'],
  [0x2029, 'P'],
]);

/** libyaml's double-quoted writer: escapes for non-printable characters, breaks, `"` and `\`. */
function doubleQuoted(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (!isPrintable(c) || c === 0xfeff || isBreak(c) || c === 0x22 || c === 0x5c) {
      const e = ESCAPES.get(c);
      if (e !== undefined) out += '\\' + e;
      else if (c <= 0xff) out += '\\x' + c.toString(16).toUpperCase().padStart(2, '0');
      else if (c <= 0xffff) out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
      else out += '\\U' + c.toString(16).toUpperCase().padStart(8, '0');
    } else out += ch;
  }
  return out + '"';
}
