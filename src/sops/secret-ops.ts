// The secret operations behind `secret set|rm|list` and `recipients`/`rotate`, each one safe write of a sops file.
import { stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { WithSecretsError, errnoCode } from '../errors.js';
import { findSopsConfig, loadCreationRule, type CreationRule } from './creation-rules.js';
import { RULE_KEYS, compileRules, walkBranch, type EncryptionRules } from './encryption-rules.js';
import { hasValue, listLeafPaths, removeValue, setValue, type PathSegment } from './edit-tree.js';
import { lookupPath, showKeyPath } from './key-path.js';
import { parseMetadata, type Metadata } from './metadata.js';
import { addRecipient, recipientGroupsOf, removeRecipient, rewrapDataKey, rotateDataKey } from './rewrap.js';
import { createSopsFile, lockForWrite, updateLocked, updateSopsFile, type Change, type OpenedForWrite, type WriteOptions } from './save.js';
import { formatFromPath, loadStore } from './stores/index.js';
import type { MapNode, Node, StoreFormat } from './tree.js';

/** Where a new file's recipients come from when `secret set` has to create it. */
export interface CreateOptions {
  /** The current directory (sops also looks for `.sops.yaml` from there). */
  readonly cwd: string;
  /** `SOPS_CONFIG`: an explicit `.sops.yaml`. */
  readonly sopsConfig?: string;
  /**
   * An existing sops file (the config's main one) whose recipients a new file takes when no
   * `.sops.yaml` rule matches it: a second secrets file is then encrypted to the same keys.
   */
  readonly recipientsFrom?: string;
}

/** The outcome of {@link setSecret}. */
export interface SetOutcome {
  /** The key was new (a string), rather than replaced (its type kept). */
  readonly created: boolean;
  /** The file itself was created, by a `.sops.yaml` creation rule. */
  readonly fileCreated: boolean;
  /** The key already held this value: nothing was written. */
  readonly unchanged: boolean;
  /** Warnings about `.sops.yaml` (an ignored `.sops.yml`). */
  readonly warnings: readonly string[];
}

/**
 * Checks that `path` can name a value in a file of `format`: dotenv has flat keys, INI has
 * `section.key`, binary only `data`; the top-level `sops` key is the metadata's. Throws `usage`.
 */
export function checkPathForFormat(format: StoreFormat, path: readonly PathSegment[]): void {
  const bad = (why: string, hint: string): never => {
    throw new WithSecretsError('usage', `${showKeyPath(path)}: ${why}`, { hint });
  };
  if (path.length === 0) bad('the key path is empty', 'name a key');
  const first = path[0]!;
  if (first === 'sops' && format !== 'dotenv' && format !== 'ini') bad('the top-level key "sops" holds the file\'s metadata', 'choose another name');
  switch (format) {
    case 'dotenv': {
      if (path.length !== 1 || typeof first !== 'string') bad('a dotenv file has only top-level keys', 'name the variable alone (e.g. OPENAI_API_KEY)');
      const k = first as string;
      if (k.startsWith('sops_')) bad('keys starting with sops_ hold the file\'s metadata', 'choose another name');
      if (k.includes('=') || k.includes('\n') || k.startsWith('#') || k.trim() === '') bad('not a valid dotenv key', 'use letters, digits and _');
      return;
    }
    case 'ini': {
      if (path.length !== 2 || path.some((s) => typeof s !== 'string')) bad('an INI file needs section.key', 'e.g. DEFAULT.token or github.token');
      const [section, key] = path as [string, string];
      if (section === 'sops') bad('the section [sops] holds the file\'s metadata', 'choose another section');
      if (/[\]\n]/.test(section) || section.trim() === '') bad('not a valid INI section name', 'use letters, digits and _');
      if (/[=:\n]/.test(key) || key.trim() === '' || /^[;#[]/.test(key)) bad('not a valid INI key', 'use letters, digits and _');
      return;
    }
    case 'binary':
      if (path.length !== 1 || first !== 'data') bad('a binary sops file holds one value, "data"', 'use the key data');
      return;
    default:
      return;
  }
}

/** True when `path` exists (following symlinks). */
async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw new WithSecretsError('io', `cannot stat ${path} (${errnoCode(err) ?? 'error'})`, { cause: err });
  }
}

/** The creation rule for a new file at `file`, or a `usage` error saying how to get one. */
export async function creationRuleFor(file: string, create: CreateOptions): Promise<{ rule: CreationRule; warnings: readonly string[] }> {
  const found = await findSopsConfig(file, create.cwd, create.sopsConfig);
  const rule = found.path === undefined ? undefined : await loadCreationRule(found.path, file, create.cwd);
  if (rule !== undefined) return { rule, warnings: found.warnings };
  const from = create.recipientsFrom;
  if (from !== undefined && resolvePath(from) !== resolvePath(file) && (await fileExists(from))) {
    const { metadata } = await readStructure(from);
    if (metadata.keyGroups.every((g) => g.others.length === 0)) {
      const same: CreationRule = { configPath: from, index: 0, keyGroups: recipientGroupsOf(metadata), shamirThreshold: metadata.shamirThreshold, encryptionRules: {}, macOnlyEncrypted: false };
      return { rule: same, warnings: [...found.warnings, `no .sops.yaml creation rule matches ${file}: encrypted to the recipients of ${from}`] };
    }
  }
  throw new WithSecretsError('usage', `${file} does not exist, and no .sops.yaml creation rule says whom to encrypt it for`, {
    hint: 'add a .sops.yaml with creation_rules (age: age1…) next to the file, or run `with-secrets init` first to make your main secrets file, whose recipients new files then take',
  });
}

/**
 * Throws `usage` when the value at `path` of `branch` would be written unencrypted because the
 * file's partial-encryption rule does not select it (sops would silently store it in plain text).
 */
export function refuseUnencrypted(branch: MapNode, path: readonly PathSegment[], rules: EncryptionRules, file: string): void {
  const compiled = compileRules(rules, file);
  const target = lookupPath(branch, path);
  let encrypted: boolean | undefined;
  walkBranch(branch, (leaf, ctx) => {
    if (leaf === target) encrypted = compiled.shouldEncrypt(ctx.path, ctx.comments, false);
    return leaf;
  });
  if (encrypted !== false) return;
  const [field, value] = (Object.entries(compiled.rules) as [keyof EncryptionRules, string][])[0] ?? ['unencryptedSuffix', ''];
  throw new WithSecretsError('usage', `${file}: ${showKeyPath(path)} would be stored unencrypted: the file's ${RULE_KEYS[field]} (${value}) does not select it`, {
    hint: 'choose a name the rule encrypts, or pass --allow-unencrypted if this value is not secret',
  });
}

/** Whether two leaves hold the same typed value. */
function sameLeaf(a: Node, b: Node): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'bytes' || b.type === 'bytes' || a.type === 'map' || a.type === 'list') return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The plaintext tree of a new file holding just `path` = `value`. */
function newBranch(path: readonly PathSegment[], value: string): MapNode {
  const empty: MapNode = { type: 'map', items: [] };
  return setValue(empty, path, value).branch;
}

/** Refuses document `doc`, counted from 0 as `--document` counts. */
const noSuchDocument = (file: string, count: number, doc: number): WithSecretsError =>
  new WithSecretsError('usage', `${file} has ${count} document(s), numbered from 0 to ${count - 1}; there is no document ${doc}`);

/**
 * Sets `path` to `value` in `file` (document `doc`, default the first), keeping an existing value's
 * type. When the file does not exist it is created from the `.sops.yaml` creation rule that applies
 * to it (as `sops` would create it); the check and the creation happen under the file's writer lock,
 * so writers that race to create it wait for each other and each lands its value. Messages never
 * hold the value.
 */
export async function setSecret(
  file: string,
  path: readonly PathSegment[],
  value: string,
  options: WriteOptions & { readonly create?: CreateOptions; readonly doc?: number; readonly allowUnencrypted?: boolean },
): Promise<SetOutcome> {
  const format = options.format ?? formatFromPath(file);
  checkPathForFormat(format, path);
  const doc = options.doc ?? 0;
  let created = false;
  let unchanged = false;
  const change = ({ opened }: OpenedForWrite): Change => {
    const branch = opened.branches[doc];
    if (branch === undefined) throw noSuchDocument(file, opened.branches.length, doc);
    const r = setValue(branch, path, value);
    if (options.allowUnencrypted !== true) refuseUnencrypted(r.branch, path, opened.metadata.rules, file);
    created = r.created;
    if (!r.created && sameLeaf(lookupPath(branch, path), lookupPath(r.branch, path))) {
      // The same value again: leave the file (and its lastmodified) as it is.
      unchanged = true;
      return { kind: 'unchanged' };
    }
    return { kind: 'change', branches: opened.branches.map((b, i) => (i === doc ? r.branch : b)) };
  };
  if (options.create === undefined) {
    await updateSopsFile(file, { ...options, format }, change);
    return { created, fileCreated: false, unchanged, warnings: [] };
  }
  const create = options.create;
  const held = await lockForWrite(file, options);
  try {
    if (await fileExists(held.target)) {
      await updateLocked(file, held.target, { ...options, format }, change);
      return { created, fileCreated: false, unchanged, warnings: [] };
    }
    if (doc !== 0) throw new WithSecretsError('usage', `${file} does not exist yet, and a new file has one document`, { hint: 'leave out --document to create it' });
    const { rule, warnings } = await creationRuleFor(file, create);
    const branch = newBranch(path, value);
    if (options.allowUnencrypted !== true) refuseUnencrypted(branch, path, rule.encryptionRules, file);
    await createSopsFile(held.target, {
      format,
      branches: [branch],
      keyGroups: rule.keyGroups,
      shamirThreshold: rule.shamirThreshold,
      rules: rule.encryptionRules,
      macOnlyEncrypted: rule.macOnlyEncrypted,
    }, options);
    return { created: true, fileCreated: true, unchanged: false, warnings };
  } finally {
    await held.lock.release();
  }
}

/** Removes `path` from `file` (document `doc`, default the first). Throws `key-not-found` when absent. */
export async function removeSecret(file: string, path: readonly PathSegment[], options: WriteOptions & { readonly doc?: number }): Promise<void> {
  if ((options.format ?? formatFromPath(file)) === 'binary') {
    // Without `data` the file is no binary sops file any more: nothing could decrypt it.
    throw new WithSecretsError('usage', `${file}: a binary sops file holds one value, "data", which cannot be removed`, { hint: `delete the file instead, or replace the value with: with-secrets secret set data -f ${file}` });
  }
  await updateSopsFile(file, options, ({ opened }) => {
    const doc = options.doc ?? 0;
    const branch = opened.branches[doc];
    if (branch === undefined) throw noSuchDocument(file, opened.branches.length, doc);
    if (!hasValue(branch, path)) {
      throw new WithSecretsError('key-not-found', `${file}: ${showKeyPath(path)} not found`, { hint: 'run `with-secrets secret list` to see the names in the file' });
    }
    return { kind: 'change', branches: opened.branches.map((b, i) => (i === doc ? removeValue(b, path) : b)) };
  });
}

/** A file's structure without decrypting anything: its (still encrypted) branches and metadata. */
export async function readStructure(file: string, format?: StoreFormat): Promise<{ branches: MapNode[]; metadata: Metadata; format: StoreFormat }> {
  const { readFile } = await import('node:fs/promises');
  const fmt = format ?? formatFromPath(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new WithSecretsError('io', `${file}: file not found`, { cause: err, hint: 'run `with-secrets init` to create one, or give --file' });
    throw new WithSecretsError(errnoCode(err) === 'EACCES' ? 'permission' : 'io', `${file}: cannot read the file (${errnoCode(err) ?? 'error'})`, { cause: err });
  }
  const { branches, metadata } = await loadStore(fmt, text, file);
  if (metadata === undefined) throw new WithSecretsError('malformed', `${file}: not a sops file (no sops metadata found)`);
  return { branches, metadata: parseMetadata(metadata, file), format: fmt };
}

/**
 * The names of the values in `file`, in document order, per document. Key names are not
 * encrypted in sops, so this needs no identity and decrypts nothing.
 */
export async function listSecretNames(file: string, format?: StoreFormat): Promise<PathSegment[][][]> {
  const { branches } = await readStructure(file, format);
  return branches.map((b) => listLeafPaths(b));
}

/** Adds a recipient (to group `group`, 0-based), re-wrapping the data key. False when it was already there. */
export async function addFileRecipient(file: string, recipient: string, options: WriteOptions & { readonly group?: number }): Promise<boolean> {
  let added = false;
  await updateSopsFile(file, options, async ({ opened }) => {
    const groups = addRecipient(recipientGroupsOf(opened.metadata), recipient, options.group ?? 0);
    if (groups === undefined) return { kind: 'unchanged' };
    added = true;
    return { kind: 'change', branches: opened.branches, metadata: await rewrapDataKey(opened.metadata, opened.dataKey, groups, file) };
  });
  return added;
}

/**
 * Removes a recipient from every group. By default the data key is rotated too (the removed
 * recipient may have kept the old one) and every value re-encrypted; `rotate: false` only re-wraps.
 */
export async function removeFileRecipient(file: string, recipient: string, options: WriteOptions & { readonly rotate: boolean }): Promise<void> {
  await updateSopsFile(file, options, async ({ opened }) => {
    const groups = removeRecipient(recipientGroupsOf(opened.metadata), recipient, file);
    if (!options.rotate) {
      return { kind: 'change', branches: opened.branches, metadata: await rewrapDataKey(opened.metadata, opened.dataKey, groups, file) };
    }
    const rotated = await rotateDataKey(opened.metadata, file, groups);
    return { kind: 'change', branches: opened.branches, metadata: rotated.metadata, dataKey: rotated.dataKey };
  });
}

/** A new data key for `file`, wrapped for the same recipients, every value encrypted anew (as `sops rotate`). */
export async function rotateFile(file: string, options: WriteOptions): Promise<void> {
  await updateSopsFile(file, options, async ({ opened }) => {
    const rotated = await rotateDataKey(opened.metadata, file);
    return { kind: 'change', branches: opened.branches, metadata: rotated.metadata, dataKey: rotated.dataKey };
  });
}
