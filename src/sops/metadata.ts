// The `sops` metadata block: read from a tree into typed values, and written back in the sops 3.13 layout.
import { WithSecretsError } from '../errors.js';
import { RULE_KEYS, type EncryptionRules } from './encryption-rules.js';
import { formatGoFloat, parseGoBool, parseGoInt, secondsTime } from './value-codec.js';
import type { Entry, ListNode, MapNode, Node, Scalar } from './tree.js';

/**
 * The sops version whose metadata layout {@link metadataToTree} writes, stamped into `version`:
 * keys sorted alphabetically at every level, age entries as `enc` then `recipient`, empty key lists
 * omitted (3.13), JSON integers encrypted as `int` and INI metadata newlines as `\n` (3.13.2).
 */
export const SOPS_LAYOUT_VERSION = '3.13.2';

/** One age recipient of a group and the armored age file that wraps the data key (or a Shamir share) for it. */
export interface AgeKey {
  readonly recipient: string;
  readonly enc: string;
}

/** A key group: its age keys, plus the other key types (pgp, kms, …) kept as they were so a writer can keep them. */
export interface KeyGroup {
  readonly age: readonly AgeKey[];
  /** Non-age key lists (`pgp`, `kms`, `gcp_kms`, `azure_kv`, `hc_vault`, `hckms`), opaque. */
  readonly others: readonly Entry[];
}

/** The typed content of a file's `sops` block. */
export interface Metadata {
  readonly keyGroups: readonly KeyGroup[];
  /** Several groups are written under `key_groups`; one group as top-level lists. */
  readonly shamirThreshold: number;
  /** The text of `lastmodified` as found (RFC 3339). */
  readonly lastmodified: string;
  /** The encrypted MAC (`ENC[…]`), or `""` when the file has none. */
  readonly mac: string;
  /** Absent in files re-written by some other sops tools; sops' library decrypt path reads them anyway. */
  readonly version: string | undefined;
  /** The partial-encryption rule as the file states it (empty when none: `_unencrypted` applies). */
  readonly rules: EncryptionRules;
  readonly macOnlyEncrypted: boolean;
}

/** The key lists sops knows besides `age`, in the order it collects them (`internalGroupFrom`; `plugins` is newer than 3.13.2). */
export const OTHER_KEY_TYPES = ['kms', 'gcp_kms', 'hckms', 'azure_kv', 'hc_vault', 'pgp', 'plugins'] as const;

function scalarText(node: Node | undefined): string | undefined {
  if (node === undefined) return undefined;
  switch (node.type) {
    case 'str':
    case 'int':
    case 'time':
      return node.value;
    case 'float':
      return formatGoFloat(node.value);
    case 'bool':
      return node.value ? 'true' : 'false';
    default:
      return undefined;
  }
}

function get(m: MapNode, key: string): Node | undefined {
  for (const item of m.items) if (item.type === 'entry' && item.key === key) return item.value;
  return undefined;
}

/**
 * Reads a `sops` metadata map (already un-flattened by the store). Accepts what sops accepts:
 * weakly typed numbers and booleans, top-level key lists or `key_groups`, a missing `version`.
 * Throws `malformed` naming the file and the metadata key.
 */
export function parseMetadata(node: MapNode, origin: string): Metadata {
  const bad = (where: string, what: string): never => {
    throw new WithSecretsError('malformed', `${origin}: sops.${where} ${what}`);
  };
  const text = (key: string, required: boolean): string | undefined => {
    const v = get(node, key);
    if (v === undefined || v.type === 'null') return required ? bad(key, 'is missing') : undefined;
    const t = scalarText(v);
    return t === undefined ? bad(key, 'is not a string') : t;
  };

  const lastmodified = text('lastmodified', true)!;
  if (secondsTime(lastmodified) === undefined) bad('lastmodified', 'is not an RFC 3339 time');
  const mac = text('mac', false) ?? '';
  const version = text('version', false);

  const rules: { -readonly [K in keyof EncryptionRules]: string } = {};
  for (const [field, key] of Object.entries(RULE_KEYS) as [keyof EncryptionRules, string][]) {
    const v = text(key, false);
    if (v !== undefined && v !== '') rules[field] = v;
  }

  const macOnlyNode = get(node, 'mac_only_encrypted');
  let macOnlyEncrypted = false;
  if (macOnlyNode !== undefined && macOnlyNode.type !== 'null') {
    if (macOnlyNode.type === 'bool') macOnlyEncrypted = macOnlyNode.value;
    else if (macOnlyNode.type === 'int' || macOnlyNode.type === 'float') macOnlyEncrypted = Number(scalarText(macOnlyNode)) !== 0;
    else {
      const b = macOnlyNode.type === 'str' ? (macOnlyNode.value === '' ? false : parseGoBool(macOnlyNode.value)) : undefined;
      macOnlyEncrypted = b ?? bad('mac_only_encrypted', 'is not a boolean');
    }
  }

  const thresholdNode = get(node, 'shamir_threshold');
  let shamirThreshold = 0;
  if (thresholdNode !== undefined && thresholdNode.type !== 'null') {
    let n: number | undefined;
    if (thresholdNode.type === 'bool') n = thresholdNode.value ? 1 : 0;
    else if (thresholdNode.type === 'float') n = Number.isInteger(thresholdNode.value) ? thresholdNode.value : undefined;
    else if (thresholdNode.type === 'str' || thresholdNode.type === 'int') {
      const parsed = thresholdNode.value === '' ? '0' : parseGoInt(thresholdNode.value);
      n = parsed === undefined ? undefined : Number(parsed);
    }
    if (n === undefined || n < 0 || n > 255) return bad('shamir_threshold', 'is not a small non-negative integer');
    shamirThreshold = n;
  }

  const top = parseGroup(node, 'sops', bad);
  let keyGroups: KeyGroup[];
  if (top.age.length > 0 || top.others.some((e) => e.value.type === 'list' && e.value.items.length > 0)) {
    keyGroups = [top];
  } else {
    const groups = get(node, 'key_groups');
    if (groups === undefined || groups.type === 'null' || (groups.type === 'list' && groups.items.length === 0)) {
      throw new WithSecretsError('malformed', `${origin}: sops metadata has no keys (neither age/pgp/kms lists nor key_groups)`);
    }
    if (groups.type !== 'list') bad('key_groups', 'is not a list');
    keyGroups = (groups as ListNode).items
      .filter((g) => g.type !== 'comment')
      .map((g, i) => (g.type === 'map' ? parseGroup(g, `key_groups[${i}]`, bad) : bad(`key_groups[${i}]`, 'is not a map')));
  }
  return { keyGroups, shamirThreshold, lastmodified, mac, version, rules, macOnlyEncrypted };
}

function parseGroup(m: MapNode, where: string, bad: (where: string, what: string) => never): KeyGroup {
  const ageNode = get(m, 'age');
  const age: AgeKey[] = [];
  if (ageNode !== undefined && ageNode.type !== 'null') {
    if (ageNode.type !== 'list') bad(`${where === 'sops' ? '' : where + '.'}age`, 'is not a list');
    (ageNode as ListNode).items
      .filter((k) => k.type !== 'comment')
      .forEach((k, i) => {
        const at = `${where === 'sops' ? '' : where + '.'}age[${i}]`;
        if (k.type !== 'map') bad(at, 'is not a map');
        const recipient = scalarText(get(k as MapNode, 'recipient')) ?? '';
        const enc = scalarText(get(k as MapNode, 'enc')) ?? '';
        age.push({ recipient, enc });
      });
  }
  // sops 3.7-3.9 write `kms: null` (JSON, binary) and older ones `kms: []` for a type without keys: both mean none
  // (stores.go reads them as empty slices), so neither counts as a key of that type, nor is written back.
  const others = m.items.filter(
    (e): e is Entry =>
      e.type === 'entry' &&
      (OTHER_KEY_TYPES as readonly string[]).includes(e.key) &&
      e.value.type !== 'null' &&
      !(e.value.type === 'list' && e.value.items.every((i) => i.type === 'comment')),
  );
  return { age, others };
}

/** The age recipients of each group, for messages and `recipients list`. */
export function recipientsByGroup(meta: Metadata): string[][] {
  return meta.keyGroups.map((g) => g.age.map((k) => k.recipient));
}

const s = (value: string): Scalar => ({ type: 'str', value });
const e = (key: string, value: Node): Entry => ({ type: 'entry', key, value });

/** Sorts map keys at every level, as sops 3.13's `goToSops` writes metadata. */
function sortDeep(node: Node): Node {
  if (node.type === 'map') {
    const entries = node.items.filter((i): i is Entry => i.type === 'entry').map((i) => e(i.key, sortDeep(i.value)));
    return { type: 'map', items: entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) };
  }
  if (node.type === 'list') return { type: 'list', items: node.items.filter((i) => i.type !== 'comment').map((i) => sortDeep(i as Node)) };
  return node;
}

function groupEntries(g: KeyGroup): Entry[] {
  const out: Entry[] = [...g.others.filter((o) => !(o.value.type === 'list' && o.value.items.length === 0))];
  if (g.age.length > 0) {
    out.push(e('age', { type: 'list', items: g.age.map((k) => ({ type: 'map', items: [e('enc', s(k.enc)), e('recipient', s(k.recipient))] }) as MapNode) }));
  }
  return out;
}

/**
 * Writes metadata as a tree in the sops ≥ 3.13 layout (keys sorted alphabetically at every level,
 * `enc` before `recipient`, empty lists and false/zero options omitted), with `version` set to
 * {@link SOPS_LAYOUT_VERSION}. One group becomes top-level key lists, several go under `key_groups`.
 * When the rules are empty the `_unencrypted` default is written, as sops does.
 */
export function metadataToTree(meta: Metadata): MapNode {
  const items: Entry[] = [];
  if (meta.keyGroups.length === 1) items.push(...groupEntries(meta.keyGroups[0]!));
  else items.push(e('key_groups', { type: 'list', items: meta.keyGroups.map((g) => ({ type: 'map', items: groupEntries(g) }) as MapNode) }));
  // sops copies the threshold whatever the number of groups and omits it only when 0.
  if (meta.shamirThreshold > 0) items.push(e('shamir_threshold', { type: 'int', value: String(meta.shamirThreshold) }));
  items.push(e('lastmodified', s(meta.lastmodified)));
  items.push(e('mac', s(meta.mac)));
  if (meta.macOnlyEncrypted) items.push(e('mac_only_encrypted', { type: 'bool', value: true }));
  const ruleKeys = Object.entries(RULE_KEYS) as [keyof EncryptionRules, string][];
  const anyRule = ruleKeys.some(([f]) => meta.rules[f] !== undefined && meta.rules[f] !== '');
  if (!anyRule) items.push(e(RULE_KEYS.unencryptedSuffix, s('_unencrypted')));
  for (const [field, key] of ruleKeys) {
    const v = meta.rules[field];
    if (v !== undefined && v !== '') items.push(e(key, s(v)));
  }
  items.push(e('version', s(SOPS_LAYOUT_VERSION)));
  return sortDeep({ type: 'map', items }) as MapNode;
}
