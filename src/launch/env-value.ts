// Turns a decrypted SOPS leaf into an environment value exactly as `sops exec-env` prints it.
import { WithSecretsError } from '../errors.js';
import type { Node } from '../sops/tree.js';

/**
 * A float as Go's `strconv.FormatFloat(v, 'G', -1, 64)`, with a `.0` added when the result could
 * be read as an integer — sops' `stores.ValToString`, which `sops exec-env` uses.
 */
export function formatSopsFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  const neg = v < 0 || Object.is(v, -0);
  const abs = Math.abs(v);
  let out: string;
  if (abs === 0) {
    out = '0';
  } else {
    // toExponential() without a precision gives the shortest digits that round-trip, as Go's shortest mode.
    const [mant, expText] = abs.toExponential().split('e') as [string, string];
    const digits = mant.replace('.', '');
    const exp = Number(expText);
    const nd = digits.length;
    const dp = exp + 1;
    if (exp < -4 || exp >= 6) {
      const e = Math.abs(exp);
      out = `${digits[0]}${nd > 1 ? `.${digits.slice(1)}` : ''}E${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
    } else if (dp <= 0) {
      out = `0.${'0'.repeat(-dp)}${digits}`;
    } else if (dp >= nd) {
      out = digits + '0'.repeat(dp - nd);
    } else {
      out = `${digits.slice(0, dp)}.${digits.slice(dp)}`;
    }
  }
  if (!out.includes('.') && !out.includes('E') && /^\d+$/.test(out)) out += '.0';
  return neg ? `-${out}` : out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes bytes that must be UTF-8 text; `what` names the secret in the error. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch (e) {
    throw new WithSecretsError('env-invalid', `${what} is not UTF-8 text, so it cannot be an environment variable`, { cause: e });
  }
}

/**
 * The environment value of a leaf: strings as they are, numbers and booleans as sops exec-env
 * prints them, timestamps as RFC 3339. A map, list or null is an error naming `what` (the variable
 * and where it comes from), never showing the value.
 */
export function toEnvValue(node: Node, what: string, fromEnvFrom = false): string {
  switch (node.type) {
    case 'str':
    case 'int':
      return node.value;
    case 'float':
      return formatSopsFloat(node.value);
    case 'bool':
      return node.value ? 'true' : 'false';
    case 'time':
      // exec-env formats time.Time with RFC3339, which drops the fractional seconds.
      return node.value.replace(/\.\d+(?=(Z|[+-]\d\d:\d\d)$)/, '');
    case 'bytes':
      return decodeUtf8(node.value, what);
    case 'null':
      throw new WithSecretsError('value-not-scalar', `${what} is null, not a value`, { hint: 'give it a value in the SOPS file, or remove the variable from the profile' });
    case 'map':
    case 'list':
      throw new WithSecretsError('value-not-scalar', `${what} is a ${node.type}, not a single value`, {
        hint: fromEnvFrom
          ? 'envFrom takes a flat document: every top-level key a single value; move the nested part to another file, or name its leaves in env'
          : 'point the reference at one of its leaves (e.g. `a.b.c`), or use envFrom for a flat document',
      });
  }
}

/** Removes exactly one trailing newline (`echo tok > file` writes one). */
export function stripOneNewline(s: string): string {
  return s.endsWith('\n') ? s.slice(0, -1) : s;
}
