// The INI store: sections of string keys as gopkg.in/ini.v1 reads and writes them for sops; metadata in a flattened [sops] section.

import { WithSecretsError } from '../../errors.js';
import type { Comment, Entry, MapNode, Node } from '../tree.js';
import { flattenMetadata, unflattenMetadata, valueToString } from './flatten.js';
import type { FlatEntry } from './flatten.js';
import type { LoadedStore } from './index.js';
import { malformed } from './malformed.js';

const DEFAULT = 'DEFAULT';

interface IniKey {
  name: string;
  value: string;
  comment: string;
}

interface IniSection {
  name: string;
  comment: string;
  keys: IniKey[];
  line: number;
}

/**
 * Reads INI as sops does through ini.v1: keys before the first header belong to `DEFAULT`
 * (always the first section), `=` or `:` separate key and value, `#`/`;` start comments (also
 * inline, after a value), `"""` opens a multi-line value, a surrounding pair of quotes or backticks
 * is removed. A section's comment becomes its first item, a key's comment an item after the key.
 * The `[sops]` section is the metadata: `\n` in its values turns into newlines, then it is un-flattened.
 */
export function loadIni(text: string, source: string): LoadedStore {
  const sections = parseIni(text, source);
  const items: Array<Entry | Comment> = [];
  let metaSection: IniSection | undefined;
  for (const s of sections) {
    if (s.name === 'sops') {
      if (metaSection !== undefined) throw malformed(source, { line: s.line }, 'duplicate [sops] section');
      metaSection = s;
      continue;
    }
    const sectionItems: Array<Entry | Comment> = [];
    if (s.comment !== '') sectionItems.push({ type: 'comment', value: stripCommentChar(s.comment) });
    for (const k of s.keys) {
      sectionItems.push({ type: 'entry', key: k.name, value: { type: 'str', value: k.value } });
      if (k.comment !== '') sectionItems.push({ type: 'comment', value: stripCommentChar(k.comment) });
    }
    items.push({ type: 'entry', key: s.name, value: { type: 'map', items: sectionItems } });
  }
  let metadata: MapNode | undefined;
  if (metaSection !== undefined) {
    const flat: FlatEntry[] = metaSection.keys.map((k) => ({
      key: k.name,
      // Since 3.13.2 sops escapes newlines as `\n`; 3.13.0/3.13.1 wrote `"""` blocks, already real newlines here.
      value: { type: 'str', value: k.value.replaceAll('\\n', '\n') },
    }));
    metadata = unflattenMetadata(flat, source);
  }
  return { branches: [{ type: 'map', items }], metadata };
}

function stripCommentChar(c: string): string {
  if (c.startsWith(';')) return c.replace(/^[; ]+/, '');
  if (c.startsWith('#')) return c.replace(/^[# ]+/, '');
  return c;
}

const isSpace = (ch: string | undefined): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n' || ch === '\v' || ch === '\f';

function parseIni(text: string, source: string): IniSection[] {
  if (text.startsWith('\ufeff')) text = text.slice(1);
  // Lines keep their `\n`, as ini.v1's reader does; it matters for comments and """ values.
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const sections: IniSection[] = [{ name: DEFAULT, comment: '', keys: [], line: 1 }];
  let current = sections[0]!;
  let comment = '';
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.replace(/^\s+/, '');
    if (line.length === 0) continue;
    if (line[0] === '#' || line[0] === ';') {
      comment += line;
      continue;
    }
    if (line[0] === '[') {
      const close = line.lastIndexOf(']');
      if (close === -1) throw malformed(source, { line: lineNo }, 'unclosed section header');
      // ini.v1 keeps the name as written between the brackets: `[ sec ]` is " sec ", and its values are bound to that.
      const name = line.slice(1, close);
      if (name === '') throw malformed(source, { line: lineNo }, 'empty section name');
      const after = line.slice(close + 1);
      const inline = after.search(/[#;]/);
      if (inline !== -1) comment += after.slice(inline).trim();
      if (name === DEFAULT && sections.length === 1) {
        // A [DEFAULT] header before any other section continues the default section.
        current = sections[0]!;
        if (current.comment === '') current.comment = comment.trim();
      } else {
        // sops reads INI with AllowNonUniqueSections: a repeated header, [DEFAULT] too, starts a section of its own, in file order.
        current = { name, comment: comment.trim(), keys: [], line: lineNo };
        sections.push(current);
      }
      comment = '';
      continue;
    }
    const { name, rest } = readKeyName(line, source, lineNo);
    const { value, inlineComment, consumed } = readValue(rest, lines, i, source, lineNo);
    i += consumed;
    comment += inlineComment;
    const existing = current.keys.find((k) => k.name === name);
    if (existing !== undefined) {
      // ini.v1 without shadows: a repeated key updates the value in place.
      existing.value = value;
      existing.comment = comment.trim();
    } else current.keys.push({ name, value, comment: comment.trim() });
    comment = '';
  }
  return sections;
}

function readKeyName(line: string, source: string, lineNo: number): { name: string; rest: string } {
  let name: string;
  let after: string;
  const quote = line.startsWith('"""') ? '"""' : line[0] === '"' ? '"' : line[0] === '`' ? '`' : undefined;
  if (quote !== undefined) {
    const end = line.indexOf(quote, quote.length);
    if (end === -1) throw malformed(source, { line: lineNo }, 'unclosed quoted key');
    name = line.slice(quote.length, end);
    after = line.slice(end + quote.length);
    const d = after.search(/[=:]/);
    if (d === -1) throw malformed(source, { line: lineNo }, 'no "=" after the key');
    after = after.slice(d + 1);
  } else {
    const d = line.search(/[=:]/);
    if (d === -1) throw malformed(source, { line: lineNo }, 'a line that is neither a section, a comment nor key = value');
    name = line.slice(0, d).trim();
    after = line.slice(d + 1);
  }
  if (name === '') throw malformed(source, { line: lineNo }, 'empty key name');
  return { name, rest: after };
}

function readValue(
  rest: string,
  lines: readonly string[],
  index: number,
  source: string,
  lineNo: number,
): { value: string; inlineComment: string; consumed: number } {
  const line = rest.replace(/^\s+/, '');
  if (line.length === 0) return { value: '', inlineComment: '', consumed: 0 };
  const quote = line.length > 3 && line.startsWith('"""') ? '"""' : line[0] === '`' ? '`' : undefined;
  if (quote !== undefined) {
    const body = line.slice(quote.length);
    const pos = body.lastIndexOf(quote);
    if (pos !== -1) return { value: body.slice(0, pos), inlineComment: '', consumed: 0 };
    // A value running over several lines, up to the closing quote.
    let value = body;
    for (let j = index + 1; j < lines.length; j++) {
      const next = lines[j]!;
      const p = next.lastIndexOf(quote);
      if (p !== -1) return { value: value + next.slice(0, p), inlineComment: '', consumed: j - index };
      value += next;
    }
    throw malformed(source, { line: lineNo }, `a value opened with ${quote} is never closed`);
  }
  let v = line.trim();
  if (v.endsWith('\\')) {
    // Continuation lines: the value goes on while lines end with a backslash.
    v = v.slice(0, -1);
    let j = index + 1;
    for (; j < lines.length; j++) {
      const next = lines[j]!.trim();
      if (next.endsWith('\\')) v += next.slice(0, -1);
      else {
        v += next;
        break;
      }
    }
    return { value: v, inlineComment: '', consumed: Math.min(j, lines.length - 1) - index };
  }
  let inlineComment = '';
  const c = v.search(/[#;]/);
  if (c !== -1) {
    inlineComment = v.slice(c);
    v = v.slice(0, c).trim();
  }
  if (v.length >= 2 && ((v[0] === '"' && v.endsWith('"')) || (v[0] === "'" && v.endsWith("'")))) v = v.slice(1, -1);
  return { value: v, inlineComment, consumed: 0 };
}

/**
 * Writes INI as sops does through ini.v1: each top-level entry is a section (DEFAULT without a
 * header when first), `key = value` with `=` aligned within a section, a blank line after each
 * section, a section's first comment above its header and a key's comment above the key; the
 * metadata as a `[sops]` section of flattened keys with newlines written as `\n`.
 */
export function emitIni(branches: readonly MapNode[], metadata: MapNode | undefined): string {
  if (branches.length !== 1) {
    throw new WithSecretsError('usage', `the ini format holds exactly one document, got ${branches.length}`, {
      hint: 'pick one YAML document, or write YAML',
    });
  }
  const sections: IniSection[] = [];
  for (const item of branches[0]!.items) {
    if (item.type === 'comment') continue;
    if (metadata !== undefined && item.key === 'sops') {
      throw new WithSecretsError('usage', 'a section named "sops" is reserved for sops metadata', { hint: 'rename the section' });
    }
    sections.push(toSection(item));
  }
  if (metadata !== undefined) {
    sections.push({
      name: 'sops',
      comment: '',
      line: 0,
      keys: flattenMetadata(metadata, '').map((e) => ({
        name: e.key,
        value: valueToString(e.value).replaceAll('\n', '\\n'),
        comment: '',
      })),
    });
  }
  const out: string[] = [];
  sections.forEach((s, i) => {
    if (s.comment !== '') out.push(...commentLines(s.comment, false));
    if (i > 0 || s.name !== DEFAULT) out.push(`[${s.name}]\n`);
    else if (s.keys.length === 0) return;
    const names = s.keys.map((k) => keyText(k.name));
    const align = Math.max(0, ...s.keys.map((k) => keyLength(k.name)));
    s.keys.forEach((k, j) => {
      if (k.comment !== '') out.push(...commentLines(k.comment, true));
      const name = names[j]!;
      out.push(`${name}${' '.repeat(Math.max(0, align - Buffer.byteLength(name, 'utf8')))} = ${valueText(k.value)}\n`);
    });
    out.push('\n');
  });
  return out.join('');
}

function toSection(e: Entry): IniSection {
  if (e.value.type !== 'map') {
    throw new WithSecretsError('usage', `the ini format needs sections: the top-level key ${JSON.stringify(e.key)} does not hold a map`, {
      hint: 'choose --output-type yaml or json',
    });
  }
  const items = e.value.items;
  let comment = '';
  let start = 0;
  if (items[0]?.type === 'comment') {
    comment = items[0].value;
    start = 1;
  }
  const keys: IniKey[] = [];
  for (const item of items.slice(start)) {
    if (item.type === 'comment') {
      // ini.v1 keeps one comment per key; sops gives it the last comment after the key.
      const last = keys[keys.length - 1];
      if (last !== undefined) last.comment = item.value;
      continue;
    }
    keys.push({ name: item.key, value: leafText(item.value, e.key, item.key), comment: '' });
  }
  return { name: e.key, comment, keys, line: 0 };
}

function leafText(v: Node, section: string, key: string): string {
  if (v.type === 'map' || v.type === 'list') {
    throw new WithSecretsError('usage', `the ini format cannot hold the nested value at ${JSON.stringify(section)}.${JSON.stringify(key)}`, {
      hint: 'choose --output-type yaml or json',
    });
  }
  return valueToString(v);
}

function commentLines(comment: string, _key: boolean): string[] {
  return comment.split('\n').map((l) => {
    if (l[0] !== '#' && l[0] !== ';') return `; ${l.trim()}\n`;
    return `${l[0]} ${l.slice(1).trim()}\n`;
  });
}

function keyText(name: string): string {
  // ini.v1 only quotes keys holding `"` or the literal "=:"; a key with `=` or `:` alone would read
  // back as a different key, so it is quoted too (a deliberate difference that loses nothing).
  if (name.includes('"') || /[=:]/.test(name)) return '`' + name + '`';
  if (name.includes('`')) return '"""' + name + '"""';
  return name;
}

function keyLength(name: string): number {
  return Buffer.byteLength(keyText(name), 'utf8');
}

function valueText(v: string): string {
  if (v.includes('\n') || v.includes('`')) return '"""' + v + '"""';
  if (v.includes('#') || v.includes(';')) return '`' + v + '`';
  if (v.trim().length !== v.length) return `"${v}"`;
  return v;
}
