// Reads sops' `.sops.yaml`: finds it as sops does and picks the creation rule (recipients, key groups, partial encryption) for a new file.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { WithSecretsError, errnoCode } from '../errors.js';
import { compileGoRegex, type EncryptionRules } from './encryption-rules.js';

/** What a creation rule says about a new file, limited to what age can do. */
export interface CreationRule {
  /** The `.sops.yaml` the rule came from. */
  readonly configPath: string;
  /** Index of the rule in `creation_rules`, for messages. */
  readonly index: number;
  /** One list of age recipients per key group; a single group unless `key_groups` has several. */
  readonly keyGroups: readonly (readonly string[])[];
  /** Shares needed to recover the data key when there are several groups (0: all of them, as sops). */
  readonly shamirThreshold: number;
  /** The partial-encryption rule, at most one set. */
  readonly encryptionRules: EncryptionRules;
  readonly macOnlyEncrypted: boolean;
}

/** Where a `.sops.yaml` was found (or not), plus warnings sops would print. */
export interface SopsConfigLookup {
  readonly path: string | undefined;
  readonly warnings: readonly string[];
}

/** sops' search depth (`config/config.go`: maxDepth). */
const MAX_DEPTH = 100;
const CONFIG_NAME = '.sops.yaml';
const ALTERNATE_NAME = '.sops.yml';

/** Creation-rule keys that name key types other than age; with-secrets cannot encrypt to these. */
const OTHER_KEY_FIELDS = ['pgp', 'kms', 'gcp_kms', 'azure_keyvault', 'hc_vault_transit_uri', 'hckms'] as const;
const OTHER_GROUP_FIELDS = ['pgp', 'kms', 'gcp_kms', 'azure_keyvault', 'hc_vault', 'hckms'] as const;

const exists = async (p: string): Promise<boolean> => {
  try {
    await stat(p);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
    throw new WithSecretsError('io', `cannot look for ${p}`, { cause: err });
  }
};

/** sops' `LookupConfigFile`: `.sops.yaml` in `startDir` or a parent, noting an ignored `.sops.yml`. */
async function lookUpward(startDir: string): Promise<SopsConfigLookup> {
  let dir = resolve(startDir);
  let alternate: string | undefined;
  for (let i = 0; i < MAX_DEPTH; i++) {
    const candidate = join(dir, CONFIG_NAME);
    if (await exists(candidate)) {
      const warnings = alternate === undefined ? [] : [`ignoring ${alternate}: the sops config file must be called ${CONFIG_NAME}; using ${candidate}`];
      return { path: candidate, warnings };
    }
    if (alternate === undefined && (await exists(join(dir, ALTERNATE_NAME)))) alternate = join(dir, ALTERNATE_NAME);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return { path: undefined, warnings: alternate === undefined ? [] : [`ignoring ${alternate}: the sops config file must be called ${CONFIG_NAME}`] };
}

/**
 * Finds the `.sops.yaml` for `file`: `explicit` (from `SOPS_CONFIG` or a flag) when given, else the
 * nearest one from the file's directory upward, else from `cwd` upward (where sops itself looks).
 */
export async function findSopsConfig(file: string, cwd: string, explicit?: string): Promise<SopsConfigLookup> {
  if (explicit !== undefined && explicit !== '') return { path: resolve(cwd, explicit), warnings: [] };
  const fromFile = await lookUpward(dirname(resolve(cwd, file)));
  if (fromFile.path !== undefined) return fromFile;
  const fromCwd = await lookUpward(cwd);
  return { path: fromCwd.path, warnings: [...fromFile.warnings, ...fromCwd.warnings] };
}

/** Reads and parses a `.sops.yaml`; errors say where, never quote the file (the parser's message can). */
async function readSopsConfig(configPath: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (err) {
    throw new WithSecretsError('config-invalid', `cannot read the sops config ${configPath} (${errnoCode(err) ?? 'error'})`, { cause: err });
  }
  // `yaml` is CommonJS: the esbuild bundle's chunk gives only `default` (module.exports), Node gives both.
  const mod = (await import('yaml')) as typeof import('yaml') & { default?: typeof import('yaml') };
  try {
    // prettyErrors: false — building the pretty message for a deeply nested file ran out of memory (a V8 abort).
    return (mod.default ?? mod).parse(text, { prettyErrors: false }) as unknown;
  } catch (err) {
    throw new WithSecretsError('config-invalid', `${configPath} is not valid YAML`, { cause: err });
  }
}

/**
 * The creation rule of `configPath` that applies to `file` (made absolute against `cwd`), as sops
 * picks it: the path is taken relative to the config file's directory, and the first rule whose
 * `path_regex` matches (or that has none) wins. Undefined when the config has no `creation_rules`.
 * Throws `config-invalid` when no rule matches, a rule is malformed, or it names keys other than age.
 */
export async function loadCreationRule(configPath: string, file: string, cwd: string): Promise<CreationRule | undefined> {
  return pickCreationRule(await readSopsConfig(configPath), configPath, resolve(cwd, file));
}

/**
 * The output indentation `.sops.yaml` asks for (`stores: {yaml|json|json_binary: {indent: N}}`), as
 * sops applies it when writing; undefined when not set (or for dotenv/INI, which have none).
 */
export async function loadStoreIndent(configPath: string, format: 'yaml' | 'json' | 'binary' | 'dotenv' | 'ini'): Promise<number | undefined> {
  if (format === 'dotenv' || format === 'ini') return undefined;
  const doc = await readSopsConfig(configPath);
  const stores = isRecord(doc) ? doc.stores : undefined;
  const store = isRecord(stores) ? stores[format === 'binary' ? 'json_binary' : format] : undefined;
  const indent = isRecord(store) ? store.indent : undefined;
  if (indent === undefined || indent === null || indent === -1) return undefined;
  if (typeof indent !== 'number' || !Number.isInteger(indent) || indent < -1 || indent > 16) {
    throw new WithSecretsError('config-invalid', `${configPath}: stores.${format === 'binary' ? 'json_binary' : format}.indent must be a small whole number`);
  }
  // YAML indentation outside 2…9 is left to the default (4), as yaml.v3 would not honour it.
  if (format === 'yaml' && (indent < 2 || indent > 9)) return undefined;
  return indent;
}

/** {@link loadCreationRule} on an already parsed config. */
export function pickCreationRule(doc: unknown, configPath: string, absoluteFile: string): CreationRule | undefined {
  const bad = (what: string): never => {
    throw new WithSecretsError('config-invalid', `${configPath}: ${what}`, { hint: 'see https://getsops.io/docs/#using-sops-yaml-conf-to-select-kms-pgp-and-age-for-new-files' });
  };
  if (doc === null || doc === undefined) return undefined;
  if (!isRecord(doc)) return bad('the top level must be a map');
  const rules = doc.creation_rules;
  if (rules === undefined || rules === null) return undefined;
  if (!Array.isArray(rules)) return bad('creation_rules must be a list');

  const configDir = dirname(resolve(configPath));
  const relative = absoluteFile.startsWith(configDir + sep) ? absoluteFile.slice(configDir.length + 1) : absoluteFile;
  for (const [index, raw] of rules.entries()) {
    if (!isRecord(raw)) return bad(`creation_rules[${index}] must be a map`);
    const pathRegex = optionalString(raw.path_regex, `creation_rules[${index}].path_regex`, bad);
    if (pathRegex !== undefined && pathRegex !== '') {
      const re = compileGoRegex(pathRegex, `${configPath}: creation_rules[${index}].path_regex`);
      if (!re.test(relative)) continue;
    }
    return parseRule(raw, index, configPath, bad);
  }
  throw new WithSecretsError('config-invalid', `${configPath}: no creation rule matches ${relative}`, {
    hint: 'add a rule whose path_regex matches this file (or one without path_regex) to creation_rules',
  });
}

function parseRule(raw: Record<string, unknown>, index: number, configPath: string, bad: (what: string) => never): CreationRule {
  const at = `creation_rules[${index}]`;
  const encryptionRules: Record<string, string> = {};
  const ruleFields = {
    unencrypted_suffix: 'unencryptedSuffix',
    encrypted_suffix: 'encryptedSuffix',
    unencrypted_regex: 'unencryptedRegex',
    encrypted_regex: 'encryptedRegex',
    unencrypted_comment_regex: 'unencryptedCommentRegex',
    encrypted_comment_regex: 'encryptedCommentRegex',
  } as const;
  const set: string[] = [];
  for (const [yamlKey, field] of Object.entries(ruleFields)) {
    const v = optionalString(raw[yamlKey], `${at}.${yamlKey}`, bad);
    if (v !== undefined && v !== '') {
      encryptionRules[field] = v;
      set.push(yamlKey);
      if (yamlKey.endsWith('regex')) compileGoRegex(v, `${configPath}: ${at}.${yamlKey}`);
    }
  }
  if (set.length > 1) bad(`${at} sets more than one of ${set.join(', ')}; sops allows one per rule`);

  const macOnly = raw.mac_only_encrypted;
  if (macOnly !== undefined && macOnly !== null && typeof macOnly !== 'boolean') bad(`${at}.mac_only_encrypted must be true or false`);
  const threshold = raw.shamir_threshold;
  if (threshold !== undefined && threshold !== null && !(typeof threshold === 'number' && Number.isInteger(threshold) && threshold >= 0)) {
    bad(`${at}.shamir_threshold must be a whole number`);
  }

  let keyGroups: string[][];
  if (Array.isArray(raw.key_groups) && raw.key_groups.length > 0) {
    keyGroups = raw.key_groups.map((g, gi) => dedupe(groupRecipients(g, `${at}.key_groups[${gi}]`, configPath, bad)));
  } else {
    if (raw.key_groups !== undefined && raw.key_groups !== null && !Array.isArray(raw.key_groups)) bad(`${at}.key_groups must be a list`);
    for (const f of OTHER_KEY_FIELDS) if (hasKeys(raw[f])) refuseOtherKeys(configPath, `${at}.${f}`);
    keyGroups = [dedupe(keyList(raw.age, `${at}.age`, bad))];
  }
  if (keyGroups.some((g) => g.length === 0)) {
    throw new WithSecretsError('config-invalid', `${configPath}: ${at} names no age recipient${keyGroups.length > 1 ? ' in one of its key groups' : ''}`, {
      hint: 'add `age: age1…` to the rule (or to each of its key_groups)',
    });
  }
  const shamirThreshold = typeof threshold === 'number' ? threshold : 0;
  if (keyGroups.length > 1 && shamirThreshold > keyGroups.length) bad(`${at}.shamir_threshold (${shamirThreshold}) is more than the ${keyGroups.length} key groups`);
  return {
    configPath,
    index,
    keyGroups,
    shamirThreshold,
    encryptionRules: encryptionRules as EncryptionRules,
    macOnlyEncrypted: macOnly === true,
  };
}

/** The age recipients of one `key_groups` entry, `merge`d groups included (as sops' extractMasterKeys). */
function groupRecipients(group: unknown, at: string, configPath: string, bad: (what: string) => never, depth = 0): string[] {
  if (depth > 20) bad(`${at}: merge is nested too deeply`);
  if (!isRecord(group)) return bad(`${at} must be a map`);
  for (const f of OTHER_GROUP_FIELDS) if (hasKeys(group[f])) refuseOtherKeys(configPath, `${at}.${f}`);
  const out: string[] = [];
  if (group.merge !== undefined && group.merge !== null) {
    if (!Array.isArray(group.merge)) bad(`${at}.merge must be a list`);
    (group.merge as unknown[]).forEach((m, i) => out.push(...groupRecipients(m, `${at}.merge[${i}]`, configPath, bad, depth + 1)));
  }
  if (group.age !== undefined && group.age !== null) {
    if (!Array.isArray(group.age)) bad(`${at}.age must be a list`);
    // Each item may itself be a comma-separated list (age.MasterKeysFromRecipients).
    (group.age as unknown[]).forEach((item, i) => out.push(...keyList(item, `${at}.age[${i}]`, bad)));
  }
  return out;
}

/** A key field that is a string (comma-separated) or a list of strings, as sops' parseKeyField. */
function keyList(v: unknown, at: string, bad: (what: string) => never): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (Array.isArray(v)) {
    return v.flatMap((item, i) => {
      if (typeof item !== 'string') return bad(`${at}[${i}] must be a string`);
      return item.split(',').map((s) => s.trim()).filter((s) => s !== '');
    });
  }
  return bad(`${at} must be a string or a list of strings`);
}

function refuseOtherKeys(configPath: string, at: string): never {
  throw new WithSecretsError('config-invalid', `${configPath}: ${at}: with-secrets encrypts to age recipients only`, {
    hint: 'create this file with sops itself, or use a creation rule that lists only age recipients',
  });
}

function hasKeys(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}

function optionalString(v: unknown, at: string, bad: (what: string) => never): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') return bad(`${at} must be a string`);
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
