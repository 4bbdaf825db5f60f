// The JSON store: an order-keeping JSON reader and a writer that prints what sops' JSON store prints.

import type { Entry, ListNode, MapNode, Node, Scalar } from '../tree.js';
import { MAX_DEPTH } from './limits.js';
import { WithSecretsError } from '../../errors.js';
import { formatKeyPath, malformed } from './malformed.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Parses a JSON document whose top level must be an object, keeping key order. Integers that fit
 * in int64 become `int` (sops ≥ 3.13.2), other numbers `float`. Duplicate keys are refused.
 */
export function parseJsonBranch(text: string, source: string): MapNode {
  return new JsonReader(text, source).readDocument();
}

class JsonReader {
  private pos = 0;
  private line = 1;
  private lineStart = 0;

  constructor(
    private readonly text: string,
    private readonly source: string,
  ) {}

  readDocument(): MapNode {
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) !== 0x7b /* { */) {
      throw this.fail(
        this.pos >= this.text.length ? 'empty input, expected a JSON object' : 'the top level is not a JSON object',
        'sops only supports JSON files with a top-level object; wrap the content, e.g. {"data": [...]}',
      );
    }
    const branch = this.readObject(1, []);
    this.skipSpace();
    if (this.pos < this.text.length) throw this.fail('unexpected content after the top-level object');
    return branch;
  }

  private fail(what: string, hint?: string): Error {
    const column = this.pos - this.lineStart + 1;
    return malformed(this.source, { line: this.line, column }, `invalid JSON: ${what}`, hint === undefined ? {} : { hint });
  }

  private skipSpace(): void {
    const t = this.text;
    for (;;) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0d) this.pos++;
      else if (c === 0x0a) {
        this.pos++;
        this.line++;
        this.lineStart = this.pos;
      } else return;
    }
  }

  private readValue(depth: number, path: string[]): Node {
    if (depth > MAX_DEPTH) throw this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x7b) return this.readObject(depth, path);
    if (c === 0x5b) return this.readArray(depth, path);
    if (c === 0x22) return { type: 'str', value: this.readString() };
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.readNumber();
    if (this.text.startsWith('true', this.pos)) {
      this.pos += 4;
      return { type: 'bool', value: true };
    }
    if (this.text.startsWith('false', this.pos)) {
      this.pos += 5;
      return { type: 'bool', value: false };
    }
    if (this.text.startsWith('null', this.pos)) {
      this.pos += 4;
      return { type: 'null' };
    }
    throw this.fail(this.pos >= this.text.length ? 'unexpected end of input' : 'expected a value');
  }

  private readObject(depth: number, path: string[]): MapNode {
    this.pos++; // {
    const items: Entry[] = [];
    const seen = new Set<string>();
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return { type: 'map', items };
    }
    for (;;) {
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 0x22) {
        throw this.fail(this.pos >= this.text.length ? 'unexpected end of input' : 'expected a string key');
      }
      const keyLine = this.line;
      const key = this.readString();
      if (seen.has(key)) {
        throw malformed(this.source, { line: keyLine }, 'duplicate key in a JSON object', {
          hint: 'each key may appear only once per object',
        });
      }
      seen.add(key);
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 0x3a) throw this.fail("expected ':' after a key");
      this.pos++;
      this.skipSpace();
      path.push(key);
      const value = this.readValue(depth + 1, path);
      path.pop();
      items.push({ type: 'entry', key, value });
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        continue;
      }
      if (c === 0x7d) {
        this.pos++;
        return { type: 'map', items };
      }
      throw this.fail(this.pos >= this.text.length ? 'unexpected end of input' : "expected ',' or '}'");
    }
  }

  private readArray(depth: number, path: string[]): ListNode {
    this.pos++; // [
    const items: Node[] = [];
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return { type: 'list', items };
    }
    for (;;) {
      this.skipSpace();
      items.push(this.readValue(depth + 1, path));
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        continue;
      }
      if (c === 0x5d) {
        this.pos++;
        return { type: 'list', items };
      }
      throw this.fail(this.pos >= this.text.length ? 'unexpected end of input' : "expected ',' or ']'");
    }
  }

  private readString(): string {
    const t = this.text;
    const start = ++this.pos;
    // Fast path: no escapes.
    let i = start;
    for (;;) {
      const c = t.charCodeAt(i);
      if (c === 0x22) {
        this.pos = i + 1;
        return t.slice(start, i);
      }
      if (c === 0x5c || c < 0x20 || Number.isNaN(c)) break;
      i++;
    }
    let out = t.slice(start, i);
    this.pos = i;
    for (;;) {
      const c = t.charCodeAt(this.pos);
      if (Number.isNaN(c)) throw this.fail('unterminated string');
      if (c === 0x22) {
        this.pos++;
        return out;
      }
      if (c < 0x20) throw this.fail('control character in a string');
      if (c !== 0x5c) {
        const next = t.indexOf('\\', this.pos);
        const quote = t.indexOf('"', this.pos);
        let end = quote === -1 ? t.length : quote;
        if (next !== -1 && next < end) end = next;
        // Stop early at a control character so it is reported.
        for (let k = this.pos; k < end; k++) {
          if (t.charCodeAt(k) < 0x20) {
            end = k;
            break;
          }
        }
        out += t.slice(this.pos, end);
        this.pos = end;
        continue;
      }
      const e = t.charCodeAt(this.pos + 1);
      this.pos += 2;
      switch (e) {
        case 0x22: out += '"'; break;
        case 0x5c: out += '\\'; break;
        case 0x2f: out += '/'; break;
        case 0x62: out += '\b'; break;
        case 0x66: out += '\f'; break;
        case 0x6e: out += '\n'; break;
        case 0x72: out += '\r'; break;
        case 0x74: out += '\t'; break;
        case 0x75: {
          const hex = t.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.fail('bad \\u escape in a string');
          this.pos += 4;
          out += String.fromCharCode(parseInt(hex, 16));
          break;
        }
        default:
          this.pos -= 2;
          throw this.fail('bad escape in a string');
      }
    }
  }

  private readNumber(): Scalar {
    const m = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
    m.lastIndex = this.pos;
    const r = m.exec(this.text);
    if (r === null) throw this.fail('bad number');
    const numText = r[0];
    this.pos += numText.length;
    if (r[1] === undefined && r[2] === undefined) {
      const big = BigInt(numText);
      if (big >= INT64_MIN && big <= INT64_MAX) return { type: 'int', value: big.toString() };
    }
    const value = Number(numText);
    // Go's ParseFloat refuses values beyond float64 (ErrRange); sops then fails to load the file.
    if (!Number.isFinite(value)) throw this.fail('number out of the range of a 64-bit float');
    return { type: 'float', value };
  }
}

/** Options of {@link emitJson}. */
export interface JsonEmitOptions {
  /** Spaces per level; undefined means a tab, as sops writes by default. */
  readonly indent?: number | undefined;
}

/**
 * Prints a branch as sops' JSON store does: key order kept, comments dropped, `encoding/json`
 * escaping (`<`, `>`, `&` as `\u003c`…), tab indentation by default and a trailing newline.
 */
export function emitJson(branch: MapNode, options: JsonEmitOptions = {}): string {
  const unit = options.indent === undefined ? '\t' : ' '.repeat(options.indent);
  const parts: string[] = [];
  writeValue(branch, '', unit, parts, []);
  parts.push('\n');
  return parts.join('');
}

function writeValue(node: Node, indent: string, unit: string, out: string[], path: string[]): void {
  switch (node.type) {
    case 'map': {
      const entries = node.items.filter((i): i is Entry => i.type === 'entry');
      if (entries.length === 0) {
        out.push('{}');
        return;
      }
      const inner = indent + unit;
      out.push('{');
      entries.forEach((e, i) => {
        out.push(i === 0 ? '\n' : ',\n', inner, goJsonString(e.key), ': ');
        path.push(e.key);
        writeValue(e.value, inner, unit, out, path);
        path.pop();
      });
      out.push('\n', indent, '}');
      return;
    }
    case 'list': {
      const values = node.items.filter((i): i is Node => i.type !== 'comment');
      if (values.length === 0) {
        out.push('[]');
        return;
      }
      const inner = indent + unit;
      out.push('[');
      values.forEach((v, i) => {
        out.push(i === 0 ? '\n' : ',\n', inner);
        writeValue(v, inner, unit, out, path);
      });
      out.push('\n', indent, ']');
      return;
    }
    default:
      out.push(jsonScalar(node, path));
  }
}

/** The JSON text of a leaf, as Go's `json.Marshal` prints the value sops holds. */
export function jsonScalar(node: Scalar, path: readonly string[] = []): string {
  switch (node.type) {
    case 'str':
    case 'time':
      return goJsonString(node.value);
    case 'int':
      return node.value;
    case 'float':
      return goJsonFloat(node.value, path);
    case 'bool':
      return node.value ? 'true' : 'false';
    case 'null':
      return 'null';
    case 'bytes':
      return `"${Buffer.from(node.value).toString('base64')}"`;
  }
}

/** Go `encoding/json` float formatting: like JS `String(n)` but `-0` stays `-0`; NaN and ±Inf are refused. */
export function goJsonFloat(value: number, path: readonly string[] = []): string {
  if (!Number.isFinite(value)) {
    const where = path.length > 0 ? ` (at ${formatKeyPath(path)})` : '';
    throw new WithSecretsError('usage', `NaN and infinite floats cannot be written as JSON${where}`, {
      hint: 'choose another --output-type, such as yaml',
    });
  }
  if (Object.is(value, -0)) return '-0';
  return String(value);
}

// Characters Go's encoding/json escapes (HTML-safe mode, which json.Marshal uses).
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;

/** A JSON string literal escaped exactly as Go's `json.Marshal` escapes it. */
export function goJsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else out += '\ufffd';
      continue;
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      out += '\ufffd';
      continue;
    }
    switch (c) {
      case 0x22: out += '\\"'; break;
      case 0x5c: out += '\\\\'; break;
      case 0x0a: out += '\\n'; break;
      case 0x0d: out += '\\r'; break;
      case 0x09: out += '\\t'; break;
      case 0x08: out += '\\b'; break;
      case 0x0c: out += '\\f'; break;
      default:
        if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) {
          out += '\\u' + c.toString(16).padStart(4, '0');
        } else out += s[i]!;
    }
  }
  return out + '"';
}
