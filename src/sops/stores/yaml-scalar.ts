// YAML scalar typing as yaml.v3 decodes into interface{} (resolve.go), and the reverse checks its encoder makes.

import type { Scalar } from '../tree.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

const SPECIAL: ReadonlyMap<string, Scalar> = new Map<string, Scalar>([
  ...['true', 'True', 'TRUE'].map((s): [string, Scalar] => [s, { type: 'bool', value: true }]),
  ...['false', 'False', 'FALSE'].map((s): [string, Scalar] => [s, { type: 'bool', value: false }]),
  ...['', '~', 'null', 'Null', 'NULL'].map((s): [string, Scalar] => [s, { type: 'null' }]),
  ...['.nan', '.NaN', '.NAN'].map((s): [string, Scalar] => [s, { type: 'float', value: Number.NaN }]),
  ...['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].map((s): [string, Scalar] => [
    s,
    { type: 'float', value: Number.POSITIVE_INFINITY },
  ]),
  ...['-.inf', '-.Inf', '-.INF'].map((s): [string, Scalar] => [s, { type: 'float', value: Number.NEGATIVE_INFINITY }]),
]);

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const DOT_FLOAT = /^\.[0-9]+([eE][-+]?[0-9]+)?$/;

/**
 * The typed value of an untagged plain (unquoted) scalar: bool, null, int (decimal text; anything
 * strconv.ParseInt/ParseUint with base 0 accepts after removing `_`, so `0x1F` is 31 and the
 * YAML 1.1 octal `017` is 15), float, time (unquoted timestamps, as RFC3339Nano text), else str.
 */
export function resolvePlain(text: string): Scalar {
  const special = SPECIAL.get(text);
  if (special !== undefined) return special;
  const c = text.charCodeAt(0);
  if (c === 0x2e /* . */) {
    if (DOT_FLOAT.test(text)) return { type: 'float', value: Number(text) };
    return { type: 'str', value: text };
  }
  const isDigit = c >= 0x30 && c <= 0x39;
  if (!isDigit && c !== 0x2b && c !== 0x2d) return { type: 'str', value: text };
  if (isDigit) {
    const time = parseYamlTimestamp(text);
    if (time !== undefined) return { type: 'time', value: time };
  }
  const plain = text.includes('_') ? text.replaceAll('_', '') : text;
  const int = goParseInt(plain);
  if (int !== undefined) return { type: 'int', value: int.toString() };
  if (YAML_STYLE_FLOAT.test(plain)) {
    const f = Number(plain);
    // Go's ParseFloat fails with ErrRange beyond float64; yaml.v3 then keeps the text as a string.
    if (Number.isFinite(f)) return { type: 'float', value: f };
  }
  return { type: 'str', value: text };
}

/** strconv.ParseInt(s, 0, 64), falling back to ParseUint(s, 0, 64); undefined when neither accepts s. */
function goParseInt(s: string): bigint | undefined {
  let i = 0;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    i = 1;
  }
  const digits = s.slice(i);
  if (digits.length === 0) return undefined;
  let base = 10;
  let body = digits;
  if (digits[0] === '0') {
    const p = digits[1]?.toLowerCase();
    if (digits.length >= 3 && p === 'b') [base, body] = [2, digits.slice(2)];
    else if (digits.length >= 3 && p === 'o') [base, body] = [8, digits.slice(2)];
    else if (digits.length >= 3 && p === 'x') [base, body] = [16, digits.slice(2)];
    else [base, body] = [8, digits.slice(1)];
  }
  const valid = base === 2 ? /^[01]*$/ : base === 8 ? /^[0-7]*$/ : base === 16 ? /^[0-9a-fA-F]*$/ : /^[0-9]*$/;
  if (!valid.test(body)) return undefined;
  if (body.length === 0 && base !== 8) return undefined;
  if (body.length > 70) return undefined; // far beyond 64 bits in any base
  const prefix = base === 2 ? '0b' : base === 8 ? '0o' : base === 16 ? '0x' : '';
  const n = body.length === 0 ? 0n : BigInt(prefix + body);
  const v = neg ? -n : n;
  if (v >= INT64_MIN && v <= INT64_MAX) return v;
  // ParseUint takes no sign at all.
  if (i === 0 && v <= UINT64_MAX) return v;
  return undefined;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const TS_FULL = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:([Tt])|( ))(\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})?$/;
const TS_DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;

/**
 * yaml.v3's timestamp check (`parseTimestamp`: Go time.Parse with `2006-1-2T15:4:5.999999999Z07:00`,
 * the same with `t`, `2006-1-2 15:4:5.999999999` and `2006-1-2`), returning the time as
 * `time.MarshalText` prints it (RFC3339Nano), or undefined when s is not such a timestamp.
 */
export function parseYamlTimestamp(s: string): string | undefined {
  let m = TS_DATE.exec(s);
  if (m !== null) {
    const [, y, mo, d] = m;
    if (!validDate(Number(y), Number(mo), Number(d))) return undefined;
    return `${y}-${pad2(mo!)}-${pad2(d!)}T00:00:00Z`;
  }
  m = TS_FULL.exec(s);
  if (m === null) return undefined;
  const [, y, mo, d, t, space, hh, mi, ss, frac, zone] = m;
  // The `T`/`t` layouts need a zone; the space layout must not have one.
  if (t !== undefined && zone === undefined) return undefined;
  if (space !== undefined && zone !== undefined) return undefined;
  if (!validDate(Number(y), Number(mo), Number(d))) return undefined;
  if (Number(hh) > 23 || Number(mi) > 59 || Number(ss) > 59) return undefined;
  let zoneText = 'Z';
  if (zone !== undefined && zone !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 24 || zm > 60) return undefined;
    zoneText = zh === 0 && zm === 0 ? 'Z' : zone;
  }
  // Go keeps at most nine fraction digits (nanoseconds) and MarshalText trims trailing zeros.
  const nanos = (frac ?? '').slice(0, 9).replace(/0+$/, '');
  return `${y}-${pad2(mo!)}-${pad2(d!)}T${pad2(hh!)}:${pad2(mi!)}:${pad2(ss!)}${nanos === '' ? '' : '.' + nanos}${zoneText}`;
}

function validDate(y: number, mo: number, d: number): boolean {
  if (mo < 1 || mo > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const max = mo === 2 && leap ? 29 : DAYS[mo - 1]!;
  return d <= max;
}

function pad2(s: string): string {
  return s.length === 1 ? '0' + s : s;
}

/** True when yaml.v3 writes the string plain: it reads back as a string and is no YAML 1.1 bool or base-60 float. */
export function canBePlainString(s: string): boolean {
  // `<<` resolves to yaml.v3's merge tag, so it is quoted too.
  return s !== '<<' && resolvePlain(s).type === 'str' && !isOldBool(s) && !isBase60Float(s);
}

function isOldBool(s: string): boolean {
  return /^(?:y|Y|yes|Yes|YES|on|On|ON|n|N|no|No|NO|off|Off|OFF)$/.test(s);
}

function isBase60Float(s: string): boolean {
  return /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/.test(s);
}

/** A float64 as yaml.v3 writes it: strconv.FormatFloat(f, 'g', -1, 64), `.inf`, `-.inf`, `.nan`. */
export function formatYamlFloat(f: number): string {
  if (Number.isNaN(f)) return '.nan';
  if (f === Number.POSITIVE_INFINITY) return '.inf';
  if (f === Number.NEGATIVE_INFINITY) return '-.inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  // toExponential() with no argument gives the shortest digits that round-trip, like Go's -1 precision.
  const [mant, expText] = Math.abs(f).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expText);
  const sign = f < 0 ? '-' : '';
  // strconv 'g' with shortest precision uses an exponent when exp < -4 || exp >= 6 (ftoa.go: "if shortest { eprec = 6 }").
  if (exp < -4 || exp >= 6) return sign + expForm(digits, exp);
  if (exp < 0) return sign + '0.' + '0'.repeat(-exp - 1) + digits;
  if (digits.length <= exp + 1) return sign + digits + '0'.repeat(exp + 1 - digits.length);
  return sign + digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
}

function expForm(digits: string, exp: number): string {
  const m = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
  const e = Math.abs(exp);
  return `${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' + e : e}`;
}
