// Turns the parsed config document (unknown JSON-like data) into a typed Config, or a ConfigIssue naming the key.
// It runs once per launch, cold, in the interpreter: paths grow with concat and maps are walked by key, since
// array spreads and destructuring for-of allocate an iterator's worth of objects per element there (perf, issue 7).
import type { IdentitySpec } from '../age/provider.js';
import { isSubcommand } from '../cli/subcommands.js';
import { isDangerousVariable, isReservedVariable, isValidVariableName, OWN_INPUTS } from '../launch/variables.js';
import type { StoreFormat } from '../sops/tree.js';
import type { Config, EnvBinding, EnvFromSource, Profile, SecretRef } from './config-types.js';
import { ExpandError, expandPath, type ExpandContext } from './expand-path.js';

/** A path into the config document: map keys and list indexes. */
export type ConfigPath = ReadonlyArray<string | number>;

/**
 * One validation failure. `at: 'key'` points at the key itself (an unknown key), `'value'` at its value.
 * The loader turns it into a `config-invalid` error with the file and line.
 */
export class ConfigIssue extends Error {
  override readonly name = 'ConfigIssue';
  constructor(
    readonly path: ConfigPath,
    message: string,
    readonly at: 'key' | 'value' = 'value',
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Formats a config path as people write it: `profiles.codex.env.OPENAI_API_KEY`, `identities[0]`. */
export function formatConfigPath(path: ConfigPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out === '' ? '(top level)' : out;
}

/** What validation needs besides the document. */
export interface ValidateOptions extends ExpandContext {
  /** The config file (absolute), recorded in the result. */
  readonly path: string;
  /** Checks a key path's syntax; throws an Error whose message says what is wrong. */
  readonly checkKeyPath?: (key: string) => void;
}

type Obj = Readonly<Record<string, unknown>>;

const FORMATS: readonly StoreFormat[] = ['yaml', 'json', 'dotenv', 'ini', 'binary'];
const TOP_KEYS = ['version', 'sopsFile', 'identities', 'profiles'];
const PROFILE_KEYS = ['command', 'env', 'envFrom', 'identities', 'pristine', 'allowDangerous', 'keepEnv'];

/** Plural-aware list of allowed keys for an "unknown key" hint. */
const allowed = (keys: readonly string[]) => `allowed here: ${keys.join(', ')}`;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `a ${typeof v}`;
}

function expectObject(v: unknown, path: ConfigPath, what: string): Obj {
  if (!isObject(v)) throw new ConfigIssue(path, `must be ${what}, not ${kindOf(v)}`);
  return v;
}

function expectString(v: unknown, path: ConfigPath, what = 'a string'): string {
  if (v === undefined) throw new ConfigIssue(path, `is missing: give ${what}`);
  if (typeof v !== 'string' || v === '') throw new ConfigIssue(path, `must be ${what}, not ${v === '' ? 'empty' : kindOf(v)}`);
  return v;
}

function expectList(v: unknown, path: ConfigPath): readonly unknown[] {
  if (!Array.isArray(v)) throw new ConfigIssue(path, `must be a list, not ${kindOf(v)}`);
  return v;
}

function rejectUnknownKeys(o: Obj, known: readonly string[], path: ConfigPath): void {
  const keys = Object.keys(o);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (!known.includes(k)) throw new ConfigIssue(path.concat(k), `unknown key "${k}"`, 'key', allowed(known));
  }
}

/** Paths already expanded in one validation (one per context): most references name the same few files. */
const expansions = new WeakMap<ExpandContext, Map<string, string>>();

function expandAt(raw: unknown, path: ConfigPath, ctx: ExpandContext): string {
  const s = expectString(raw, path, 'a path');
  let done = expansions.get(ctx);
  if (done === undefined) expansions.set(ctx, (done = new Map()));
  const known = done.get(s);
  if (known !== undefined) return known;
  try {
    const expanded = expandPath(s, ctx);
    done.set(s, expanded);
    return expanded;
  } catch (e) {
    if (e instanceof ExpandError) throw Object.assign(new ConfigIssue(path, e.message), { cause: e });
    throw e;
  }
}

/**
 * A reference's path, expanded, or the path as written with why this environment cannot expand it
 * (an unset $XDG_RUNTIME_DIR): that is the reference's problem when it is used, not the config's.
 */
function expandRefAt(raw: unknown, path: ConfigPath, ctx: ExpandContext): { file: string; unavailable?: string } {
  try {
    return { file: expandAt(raw, path, ctx) };
  } catch (e) {
    if (e instanceof ConfigIssue && e.cause instanceof ExpandError && e.cause.unset) return { file: raw as string, unavailable: `${formatConfigPath(path)}: ${e.message}` };
    throw e;
  }
}

function parseFormat(v: unknown, path: ConfigPath): StoreFormat {
  if (typeof v !== 'string' || !(FORMATS as readonly string[]).includes(v)) {
    throw new ConfigIssue(path, `must be one of ${FORMATS.join(', ')}`);
  }
  return v as StoreFormat;
}

function parseIdentities(v: unknown, path: ConfigPath, ctx: ExpandContext): IdentitySpec[] {
  return expectList(v, path).map((item, i): IdentitySpec => {
    const at = path.concat(i);
    const o = expectObject(item, at, 'a map with one of file, command, keyring');
    const keys = Object.keys(o);
    if (keys.length !== 1) {
      throw new ConfigIssue(at, 'must have exactly one of file, command, keyring', 'value', 'e.g. `- file: ~/.config/sops/age/keys.txt`');
    }
    rejectUnknownKeys(o, ['file', 'command', 'keyring'], at);
    if ('file' in o) return { file: expandAt(o['file'], at.concat('file'), ctx) };
    if ('keyring' in o) return { keyring: expectString(o['keyring'], at.concat('keyring'), 'a keyring name') };
    const cmd = o['command'];
    const argv = expectList(cmd, at.concat('command')).map((a, j) => expectString(a, at.concat('command', j), 'a string (one argv word)'));
    if (argv.length === 0) throw new ConfigIssue(at.concat('command'), 'must name a program to run', 'value', 'e.g. `command: [pass, show, age-key]` (run without a shell)');
    return { command: argv };
  });
}

function checkKey(key: string, at: ConfigPath, opts: ValidateOptions): void {
  try {
    opts.checkKeyPath?.(key);
  } catch (e) {
    throw new ConfigIssue(at, `is not a valid key path: ${e instanceof Error ? e.message : 'invalid'}`, 'value', 'write it dotted (`openai.api_key`) or as sops does (`["openai"]["api_key"]`)');
  }
}

function parseRef(v: unknown, path: ConfigPath, defaultSops: string | undefined, opts: ValidateOptions): SecretRef {
  if (typeof v === 'string') {
    if (v === '') throw new ConfigIssue(path, 'must be a key path or a reference, not empty');
    if (defaultSops === undefined) {
      throw new ConfigIssue(path, 'is a key path, but there is no top-level sopsFile to look it up in', 'value', 'set `sopsFile:` at the top of the config, or write `{ sops: FILE, key: PATH }`');
    }
    checkKey(v, path, opts);
    return { kind: 'sops', file: defaultSops, key: v };
  }
  const o = expectObject(v, path, 'a key path string or a map (sops/key, age, file or keyring)');
  if ('sops' in o || 'key' in o) {
    rejectUnknownKeys(o, ['sops', 'key', 'format'], path);
    const keyAt = path.concat('key');
    const key = expectString(o['key'], keyAt, 'a key path');
    checkKey(key, keyAt, opts);
    const where = 'sops' in o ? expandRefAt(o['sops'], path.concat('sops'), opts) : defaultSops === undefined ? undefined : { file: defaultSops };
    if (where === undefined) throw new ConfigIssue(path, 'has a key but no sops file, and there is no top-level sopsFile', 'value', 'add `sops: FILE`');
    return o['format'] === undefined ? { kind: 'sops', ...where, key } : { kind: 'sops', ...where, key, format: parseFormat(o['format'], path.concat('format')) };
  }
  if ('age' in o) {
    rejectUnknownKeys(o, ['age'], path);
    return { kind: 'age', ...expandRefAt(o['age'], path.concat('age'), opts) };
  }
  if ('file' in o) {
    rejectUnknownKeys(o, ['file'], path);
    return { kind: 'file', ...expandRefAt(o['file'], path.concat('file'), opts) };
  }
  if ('keyring' in o) {
    rejectUnknownKeys(o, ['keyring'], path);
    return { kind: 'keyring', name: expectString(o['keyring'], path.concat('keyring'), 'a keyring entry name') };
  }
  const first = Object.keys(o)[0];
  if (first === undefined) throw new ConfigIssue(path, 'is an empty map', 'value', 'use one of {sops, key}, {age}, {file}, {keyring}');
  throw new ConfigIssue(path.concat(first), `unknown key "${first}"`, 'key', 'a reference is a key path string, or one of {sops: FILE, key: PATH}, {age: FILE}, {file: PATH}, {keyring: NAME}');
}

/** Checks a variable name a profile sets (from `env:` here, from `envFrom` at launch). */
export function checkVariableName(name: string, path: ConfigPath, allowDangerous: readonly string[]): void {
  if (!isValidVariableName(name)) {
    throw new ConfigIssue(path, `"${name}" is not a valid variable name`, 'key', 'names are letters, digits and _, not starting with a digit');
  }
  if (isReservedVariable(name)) throw new ConfigIssue(path, `${name} is with-secrets' own marker and cannot be set`, 'key');
  if (isDangerousVariable(name) && !allowDangerous.includes(name)) {
    throw new ConfigIssue(path, `${name} is a dangerous variable (it changes which code runs)`, 'key', `if you mean it, add \`allowDangerous: [${name}]\` to the profile`);
  }
}

function parseNameList(v: unknown, path: ConfigPath): string[] {
  return expectList(v, path).map((n, i) => {
    const s = expectString(n, path.concat(i), 'a variable name');
    if (!isValidVariableName(s)) throw new ConfigIssue(path.concat(i), `"${s}" is not a valid variable name`);
    return s;
  });
}

function parseProfile(name: string, v: unknown, top: { sopsFile?: string }, opts: ValidateOptions): Profile {
  const path: ConfigPath = ['profiles', name];
  if (isSubcommand(name)) {
    throw new ConfigIssue(path, `"${name}" is a with-secrets subcommand and cannot be a profile name`, 'key', `rename the profile (e.g. "${name}-tool") and start it with \`with-secrets run --profile ${name}-tool -- ${name} …\``);
  }
  if (name === '' || name.includes('/') || name.startsWith('-') || /\s/.test(name)) {
    throw new ConfigIssue(path, `"${name}" is not a usable profile name (no "/", whitespace or leading "-")`, 'key');
  }
  const o = expectObject(v ?? {}, path, 'a map');
  rejectUnknownKeys(o, PROFILE_KEYS, path);
  const allowDangerous = o['allowDangerous'] === undefined ? [] : parseNameList(o['allowDangerous'], path.concat('allowDangerous'));
  const keepEnv = o['keepEnv'] === undefined ? [] : parseNameList(o['keepEnv'], path.concat('keepEnv'));
  for (const [i, k] of keepEnv.entries()) {
    if (!OWN_INPUTS.includes(k)) throw new ConfigIssue(path.concat('keepEnv', i), `${k} is not one of with-secrets' inputs`, 'value', `keepEnv takes ${OWN_INPUTS.join(', ')}`);
  }
  const env: EnvBinding[] = [];
  if (o['env'] !== undefined) {
    const e = expectObject(o['env'], path.concat('env'), 'a map of VARIABLE: reference');
    for (const varName of Object.keys(e)) {
      const ref = e[varName];
      const at = path.concat('env', varName);
      checkVariableName(varName, at, allowDangerous);
      env.push({ name: varName, ref: parseRef(ref, at, top.sopsFile, opts) });
    }
  }
  const envFrom: EnvFromSource[] = [];
  if (o['envFrom'] !== undefined) {
    expectList(o['envFrom'], path.concat('envFrom')).forEach((item, i) => {
      const at = path.concat('envFrom', i);
      if (typeof item === 'string') {
        envFrom.push(expandRefAt(item, at, opts));
        return;
      }
      const src = expectObject(item, at, 'a path, or a map {sops: FILE, format: …}');
      rejectUnknownKeys(src, ['sops', 'format'], at);
      const where = expandRefAt(src['sops'], at.concat('sops'), opts);
      envFrom.push(src['format'] === undefined ? where : { ...where, format: parseFormat(src['format'], at.concat('format')) });
    });
  }
  let command: string | undefined;
  if (o['command'] !== undefined) {
    const c = expectString(o['command'], path.concat('command'), 'a program name or path');
    // A bare name is looked up on PATH at launch; anything path-like is expanded now.
    command = c.includes('/') || c.startsWith('~') || c.startsWith('$') ? expandAt(c, path.concat('command'), opts) : c;
  }
  let pristine = false;
  if (o['pristine'] !== undefined) {
    if (typeof o['pristine'] !== 'boolean') throw new ConfigIssue(path.concat('pristine'), `must be true or false, not ${kindOf(o['pristine'])}`);
    pristine = o['pristine'];
  }
  const profile: Profile = {
    name,
    env,
    envFrom,
    pristine,
    allowDangerous,
    keepEnv,
    ...(command === undefined ? {} : { command }),
    ...(o['identities'] === undefined ? {} : { identities: parseIdentities(o['identities'], path.concat('identities'), opts) }),
  };
  return profile;
}

/** Validates a parsed config document. Throws {@link ConfigIssue} for the first problem found. */
export function validateConfig(doc: unknown, opts: ValidateOptions): Config {
  const o = expectObject(doc ?? {}, [], 'a map (version, sopsFile, identities, profiles)');
  rejectUnknownKeys(o, TOP_KEYS, []);
  if (o['version'] !== undefined && o['version'] !== 1) {
    throw new ConfigIssue(['version'], 'must be 1', 'value', 'this with-secrets reads config version 1');
  }
  const sopsFile = o['sopsFile'] === undefined ? undefined : expandAt(o['sopsFile'], ['sopsFile'], opts);
  const identities = o['identities'] === undefined ? undefined : parseIdentities(o['identities'], ['identities'], opts);
  const profiles = new Map<string, Profile>();
  if (o['profiles'] !== undefined && o['profiles'] !== null) {
    const p = expectObject(o['profiles'], ['profiles'], 'a map of profile name: profile');
    for (const name of Object.keys(p)) {
      profiles.set(name, parseProfile(name, p[name], sopsFile === undefined ? {} : { sopsFile }, opts));
    }
  }
  return {
    path: opts.path,
    version: 1,
    profiles,
    ...(sopsFile === undefined ? {} : { sopsFile }),
    ...(identities === undefined ? {} : { identities }),
  };
}
