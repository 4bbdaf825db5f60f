// Which leaves sops encrypts (suffix, regex and comment rules), the tree walk that applies them, and the AAD path.
import { WithSecretsError } from '../errors.js';
import type { Comment, Entry, ListNode, MapNode, Node, Scalar } from './tree.js';

/** The partial-encryption rule of a file, as in its metadata; at most one is set. */
export interface EncryptionRules {
  readonly unencryptedSuffix?: string;
  readonly encryptedSuffix?: string;
  readonly unencryptedRegex?: string;
  readonly encryptedRegex?: string;
  readonly unencryptedCommentRegex?: string;
  readonly encryptedCommentRegex?: string;
}

/** The metadata key of each rule, in sops' spelling. */
export const RULE_KEYS = {
  unencryptedSuffix: 'unencrypted_suffix',
  encryptedSuffix: 'encrypted_suffix',
  unencryptedRegex: 'unencrypted_regex',
  encryptedRegex: 'encrypted_regex',
  unencryptedCommentRegex: 'unencrypted_comment_regex',
  encryptedCommentRegex: 'encrypted_comment_regex',
} as const satisfies Record<keyof EncryptionRules, string>;

/** sops' default when a file names no rule (`stores.go:ToInternal`). */
export const DEFAULT_UNENCRYPTED_SUFFIX = '_unencrypted';

/** The comments above the current item, one list per nesting level (sops' `commentsStack`). */
export type CommentStack = ReadonlyArray<readonly string[]>;

/** Decides, per leaf, whether sops encrypts it. */
export interface CompiledRules {
  readonly rules: EncryptionRules;
  /** `path` holds the map keys down to the leaf; `isComment` for comment leaves (sops.go `shouldBeEncrypted`). */
  shouldEncrypt(path: readonly string[], comments: CommentStack, isComment: boolean): boolean;
}

/**
 * Checks that at most one rule is set, fills in the `_unencrypted` default when none is, and
 * compiles regexes (Go RE2 syntax) to JavaScript. Throws `malformed` for two rules or a regex
 * that cannot be carried over; `origin` names the file for the message.
 */
export function compileRules(rules: EncryptionRules, origin: string): CompiledRules {
  const set = (Object.keys(RULE_KEYS) as (keyof EncryptionRules)[]).filter((k) => rules[k] !== undefined && rules[k] !== '');
  if (set.length > 1) {
    throw new WithSecretsError(
      'malformed',
      `${origin}: more than one partial-encryption rule is set (${set.map((k) => RULE_KEYS[k]).join(', ')}); sops allows at most one`,
    );
  }
  const effective: EncryptionRules = set.length === 0 ? { unencryptedSuffix: DEFAULT_UNENCRYPTED_SUFFIX } : { [set[0]!]: rules[set[0]!] };
  const regex = (k: keyof EncryptionRules): RegExp | undefined => {
    const source = effective[k];
    return source === undefined ? undefined : compileGoRegex(source, `${origin}: ${RULE_KEYS[k]}`);
  };
  const unencRe = regex('unencryptedRegex');
  const encRe = regex('encryptedRegex');
  const unencCommentRe = regex('unencryptedCommentRegex');
  const encCommentRe = regex('encryptedCommentRegex');
  const { unencryptedSuffix, encryptedSuffix } = effective;

  return {
    rules: effective,
    shouldEncrypt(path, comments, isComment) {
      if (unencryptedSuffix !== undefined) return !path.some((p) => p.endsWith(unencryptedSuffix));
      if (encryptedSuffix !== undefined) return path.some((p) => p.endsWith(encryptedSuffix));
      if (unencRe) return !path.some((p) => unencRe.test(p));
      if (encRe) return path.some((p) => encRe.test(p));
      if (unencCommentRe) return !comments.some((level) => level.some((c) => unencCommentRe.test(c)));
      if (encCommentRe) {
        // The comment line that matches stays plain itself: skip the newest comment when testing a comment.
        const last = comments.length - 1;
        return comments.some((level, i) =>
          level.some((c, j) => !(isComment && i === last && j === level.length - 1) && encCommentRe.test(c)),
        );
      }
      return true;
    },
  };
}

/** The additional data sops binds a leaf to: map keys joined by `:` plus a trailing `:` (list indices left out). */
export function aadOf(path: readonly string[]): string {
  return path.join(':') + ':';
}

/** What the walk tells the visitor about one leaf. */
export interface LeafContext {
  readonly path: readonly string[];
  /** The full location for messages: map keys and list indices (indices are not part of the AAD). */
  readonly location: readonly (string | number)[];
  readonly comments: CommentStack;
  readonly isComment: boolean;
}

/** A leaf the walk visits: any scalar but null (sops skips nil), or a comment. */
export type WalkLeaf = Exclude<Scalar, { type: 'null' }> | Comment;

/**
 * Walks a branch in sops' order (document order, depth first, comments included, nulls skipped) and
 * returns it with every leaf replaced by what `visit` returns (a map or list in which nothing changed
 * is returned itself, not copied). The comment stack is kept as
 * `sops.go:walkBranch`/`walkSlice` keep it: comments accumulate per level and are cleared after each
 * non-comment item. Leaves for which `skip` says so are kept as they are and never visited (a launch
 * that decrypts only the values it names: no context is built for the 990 others of a 1,000-key file).
 */
export function walkBranch(branch: MapNode, visit: (leaf: WalkLeaf, ctx: LeafContext) => WalkLeaf, skip?: (leaf: WalkLeaf) => boolean): MapNode {
  return walkMap(branch, { path: [], loc: [], stack: [], visit, skip });
}

/**
 * The walk's state. The path, location and comment stack are pushed and popped as the walk goes
 * rather than copied at every level, and copied only into the context of a leaf that is visited:
 * this code runs once per launch, in the interpreter, where spreading an array allocates an
 * iterator's worth of objects per element (perf, issue 7).
 */
interface Walk {
  readonly path: string[];
  readonly loc: (string | number)[];
  readonly stack: string[][];
  readonly visit: (leaf: WalkLeaf, ctx: LeafContext) => WalkLeaf;
  readonly skip: ((leaf: WalkLeaf) => boolean) | undefined;
}

function visitLeaf(w: Walk, leaf: WalkLeaf, isComment: boolean): WalkLeaf {
  if (w.skip?.(leaf) === true) return leaf;
  return w.visit(leaf, { path: w.path.slice(), location: w.loc.slice(), comments: snapshot(w.stack), isComment });
}

// Copy on write: a map or list whose items all come back unchanged is returned as it is, so a walk
// that skips most leaves (a launch decrypting 10 values of a 1,000-key file) allocates almost nothing.
// Tree nodes are never changed in place (their items are readonly), so sharing them is safe.

function walkMap(node: MapNode, w: Walk): MapNode {
  const level: string[] = [];
  w.stack.push(level);
  const from = node.items;
  let items: (Entry | Comment)[] | undefined;
  for (let i = 0; i < from.length; i++) {
    const item = from[i]!;
    let out: Entry | Comment;
    if (item.type === 'comment') {
      level.push(item.value);
      out = asComment(visitLeaf(w, item, true));
    } else {
      w.path.push(item.key);
      w.loc.push(item.key);
      const value = walkNode(item.value, w);
      w.path.pop();
      w.loc.pop();
      level.length = 0;
      out = value === item.value ? item : { ...item, value };
    }
    if (items === undefined && out !== item) items = from.slice(0, i);
    items?.push(out);
  }
  w.stack.pop();
  return items === undefined ? node : { ...node, items };
}

function walkList(node: ListNode, w: Walk): ListNode {
  const level: string[] = [];
  w.stack.push(level);
  const from = node.items;
  let items: (Node | Comment)[] | undefined;
  let index = 0;
  for (let i = 0; i < from.length; i++) {
    const item = from[i]!;
    let out: Node | Comment;
    if (item.type === 'comment') {
      level.push(item.value);
      out = asComment(visitLeaf(w, item, true));
    } else {
      w.loc.push(index++);
      out = walkNode(item, w);
      w.loc.pop();
      level.length = 0;
    }
    if (items === undefined && out !== item) items = from.slice(0, i);
    items?.push(out);
  }
  w.stack.pop();
  return items === undefined ? node : { ...node, items };
}

function walkNode(node: Node, w: Walk): Node {
  if (node.type === 'map') return walkMap(node, w);
  if (node.type === 'list') return walkList(node, w);
  if (node.type === 'null') return node;
  const out = visitLeaf(w, node, false);
  if (out.type === 'comment') throw new WithSecretsError('malformed', `a value at ${aadOf(w.path)} decrypted to a comment`);
  return out;
}

function asComment(leaf: WalkLeaf): Comment {
  // sops turns whatever the cipher returns for a comment back into a comment (walkBranch).
  if (leaf.type === 'comment') return leaf;
  if (leaf.type === 'str') return { type: 'comment', value: leaf.value };
  throw new WithSecretsError('malformed', 'a comment decrypted to a typed value');
}

function snapshot(stack: string[][]): CommentStack {
  return stack.map((level) => level.slice());
}

// ---- Go RE2 → JavaScript -------------------------------------------------------------------

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

// Characters that must stay escaped in a JavaScript `u` regex (outside a class).
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));
const GO_SPACE = '\\t\\n\\f\\r ';

/**
 * Translates a Go RE2 regular expression into a JavaScript `u` RegExp with the same meaning for the
 * short key-name and comment patterns sops files use. Supported: leading `(?flags)` with i/m/s,
 * `(?P<name>…)`, `\A`, `\z`, `\Q…\E`, POSIX classes, `\pL`/`\p{Greek}`, Go's ASCII `\s`, octal and
 * `\x{…}` escapes. Rejected with a `malformed` error naming `origin`: what JavaScript cannot express
 * the same way (`(?U)`, flag groups inside the pattern, `\C`), nested unbounded repetition (`(a+)+`,
 * linear in RE2 but exponential backtracking here), and what RE2 itself refuses (look-around,
 * back-references).
 */
export function compileGoRegex(source: string, origin: string): RegExp {
  const fail = (why: string): never => {
    throw new WithSecretsError('malformed', `${origin}: regular expression cannot be used: ${why}`, {
      hint: 'sops uses Go RE2 syntax; with-secrets supports the common subset without nested repetition (see compileGoRegex)',
    });
  };
  // Key-name patterns are short; a huge one is either a mistake or meant to exhaust the regex compiler.
  if (source.length > 4096) fail('longer than 4096 characters');
  let flags = 'u';
  let i = 0;
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(source);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'i' || f === 'm' || f === 's') {
        if (!flags.includes(f)) flags += f;
      } else if (f === 'U') fail('the ungreedy flag (?U) has no JavaScript equivalent');
      else fail(`unknown flag ${f}`);
    }
    i = lead[0].length;
  }
  let out = '';
  let inClass = false;
  // Nested unbounded repetition ((a+)+, (x*y)*) is linear in RE2 but can backtrack for ever in
  // JavaScript, and the rule comes from the file's metadata, which the MAC does not cover.
  const groups: boolean[] = [];
  let closedUnbounded = false;
  // The same for a repeated alternation ((a|a)*, (a|ab)+): ambiguous branches backtrack exponentially too.
  const alternations: boolean[] = [];
  let closedAlternation = false;
  let afterQuantifier = false;
  const n = source.length;
  while (i < n) {
    const c = source[i]!;
    if (!inClass && c !== '\\') {
      const repeat = c === '{' ? /^\{\d+(,\d*)?\}/.exec(source.slice(i)) : null;
      const unbounded = c === '*' || c === '+' || (repeat !== null && repeat[1] === ',');
      if (c === '?' && afterQuantifier) {
        afterQuantifier = false; // a lazy modifier, not a new repetition
      } else if (unbounded || c === '?' || repeat !== null) {
        // Repeating a group (any count but `?`) whose inside repeats or branches multiplies the ways to match.
        const repeats = c !== '?' && !(repeat !== null && /^\{[01](,[01])?\}$/.test(repeat[0]));
        if (repeats && closedUnbounded) fail('nested repetition such as (a+)+, (a{1,3})* or (a+){2} can take exponential time in JavaScript');
        if (repeats && closedAlternation) fail('repetition of an alternation such as (a|b)* can take exponential time in JavaScript');
        // Any repetition inside counts: (a{1,3})* and (a?a?)* are as ambiguous as (a+)*.
        if (groups.length > 0) groups[groups.length - 1] = true;
        closedUnbounded = false;
        closedAlternation = false;
        afterQuantifier = true;
      } else if (c === ')') {
        const inner = groups.pop() ?? false;
        if (inner && groups.length > 0) groups[groups.length - 1] = true;
        closedUnbounded = inner;
        closedAlternation = alternations.pop() ?? false;
        if (closedAlternation && alternations.length > 0) alternations[alternations.length - 1] = true;
        afterQuantifier = false;
      } else {
        if (c === '(') {
          groups.push(false);
          alternations.push(false);
        }
        if (c === '|' && alternations.length > 0) alternations[alternations.length - 1] = true;
        closedUnbounded = false;
        closedAlternation = false;
        afterQuantifier = false;
      }
    } else {
      closedUnbounded = false;
      closedAlternation = false;
      afterQuantifier = false;
    }
    if (c === '\\') {
      const [js, len] = translateEscape(source, i, inClass, fail);
      out += js;
      i += len;
      continue;
    }
    if (inClass) {
      if (c === '[' && source[i + 1] === ':') {
        const end = source.indexOf(':]', i + 2);
        if (end < 0) fail('unterminated POSIX class');
        let name = source.slice(i + 2, end);
        const negated = name.startsWith('^');
        if (negated) name = name.slice(1);
        const set = POSIX_CLASSES[name];
        if (set === undefined) fail(`unknown POSIX class [:${name}:]`);
        if (negated) fail('negated POSIX classes are not supported');
        out += set;
        i = end + 2;
        continue;
      }
      if (c === ']') {
        inClass = false;
        out += ']';
        i++;
        continue;
      }
      if (c === '[') {
        out += '\\[';
        i++;
        continue;
      }
      out += c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += '[';
      i++;
      if (source[i] === '^') {
        out += '^';
        i++;
      }
      // A `]` right after `[` or `[^` is a literal in RE2.
      if (source[i] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(') {
      if (source[i + 1] === '?') {
        const rest = source.slice(i + 2);
        if (rest.startsWith(':')) {
          out += '(?:';
          i += 3;
        } else if (rest.startsWith('P<') || (rest.startsWith('<') && !rest.startsWith('<=') && !rest.startsWith('<!'))) {
          const m = /^P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
          if (!m) fail('invalid group name');
          out += `(?<${m![1]}>`;
          i += 2 + m![0].length;
        } else if (/^[=!]|^<[=!]/.test(rest)) {
          fail('look-around assertions are not RE2 syntax');
        } else {
          fail('flag groups inside the pattern ((?i:…), (?i) after the start) are not supported');
        }
        continue;
      }
      out += '(';
      i++;
      continue;
    }
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
      if (m && out.length > 0) {
        if (Number(m[1]) > 1000 || (m[3] !== undefined && m[3] !== '' && Number(m[3]) > 1000)) fail('repeat count above 1000');
        out += m[0];
        i += m[0].length;
      } else {
        out += '\\{';
        i++;
      }
      continue;
    }
    if (c === '}' || c === ']') {
      out += '\\' + c;
      i++;
      continue;
    }
    out += c;
    i++;
  }
  if (inClass) fail('unterminated character class');
  try {
    const re = new RegExp(out, flags);
    // V8 compiles on first use: a pattern too large to compile throws there, so compile it here.
    re.test('');
    return re;
  } catch (cause) {
    throw new WithSecretsError('malformed', `${origin}: regular expression is not valid`, { cause });
  }
}

function translateEscape(source: string, i: number, inClass: boolean, fail: (why: string) => never): [string, number] {
  const e = source[i + 1];
  if (e === undefined) return fail('trailing backslash');
  if (e === 'Q') {
    const end = source.indexOf('\\E', i + 2);
    const lit = source.slice(i + 2, end < 0 ? undefined : end);
    const js = [...lit].map((ch) => literal(ch, inClass)).join('');
    return [js, (end < 0 ? source.length : end + 2) - i];
  }
  if (e === 'A') return inClass ? fail('\\A inside a class') : ['(?<![\\s\\S])', 2];
  if (e === 'z') return inClass ? fail('\\z inside a class') : ['(?![\\s\\S])', 2];
  if (e === 's') return [inClass ? GO_SPACE : `[${GO_SPACE}]`, 2];
  if (e === 'S') return inClass ? fail('\\S inside a class') : [`[^${GO_SPACE}]`, 2];
  if ('dDwWbB'.includes(e)) {
    if (inClass && (e === 'b' || e === 'B')) return fail(`\\${e} inside a class`);
    return ['\\' + e, 2];
  }
  if (e === 'p' || e === 'P') {
    let name: string;
    let len: number;
    if (source[i + 2] === '{') {
      const end = source.indexOf('}', i + 3);
      if (end < 0) return fail('unterminated \\p{…}');
      name = source.slice(i + 3, end);
      len = end + 1 - i;
    } else {
      name = source[i + 2] ?? '';
      len = 3;
    }
    let negate = e === 'P';
    if (name.startsWith('^')) {
      negate = !negate;
      name = name.slice(1);
    }
    if (!/^[A-Za-z_]+$/.test(name)) return fail('invalid Unicode class name');
    const prop = name === 'Any' ? 'Any' : /^[A-Z][a-z]?$/.test(name) ? name : `Script=${name}`;
    return [`\\${negate ? 'P' : 'p'}{${prop}}`, len];
  }
  if (e === 'x') {
    if (source[i + 2] === '{') {
      const m = /^\{([0-9A-Fa-f]{1,6})\}/.exec(source.slice(i + 2));
      if (!m) return fail('invalid \\x{…} escape');
      return [`\\u{${m[1]}}`, 2 + m[0].length];
    }
    const m = /^[0-9A-Fa-f]{2}/.exec(source.slice(i + 2));
    if (!m) return fail('invalid \\x escape');
    return ['\\x' + m[0], 4];
  }
  if (/[0-7]/.test(e)) {
    const m = /^[0-7]{1,3}/.exec(source.slice(i + 1))!;
    if (e !== '0' && m[0].length === 1) return fail('back-references are not RE2 syntax');
    return [`\\u{${parseInt(m[0], 8).toString(16)}}`, 1 + m[0].length];
  }
  const controls: Record<string, string> = { a: '\\x07', f: '\\f', t: '\\t', n: '\\n', r: '\\r', v: '\\v' };
  if (controls[e] !== undefined) return [controls[e]!, 2];
  if (/[A-Za-z0-9]/.test(e)) return fail(`unsupported escape \\${e}`);
  return [literal(e, inClass), 2];
}

/** A literal character, escaped as a JavaScript `u` regex needs it. */
function literal(ch: string, inClass: boolean): string {
  if (inClass) return '\\^-]['.includes(ch) ? '\\' + ch : ch;
  return JS_SYNTAX.has(ch) ? '\\' + ch : ch;
}
