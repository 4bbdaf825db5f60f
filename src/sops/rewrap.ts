// New key groups for a file: re-wrap the same data key (as `sops updatekeys`) or a fresh one (as `sops rotate`).
import { randomBytes } from 'node:crypto';
import { WithSecretsError } from '../errors.js';
import { DATA_KEY_SIZE, wrapDataKey } from './data-key.js';
import type { KeyGroup, Metadata } from './metadata.js';

/** The recipients of each key group, as strings. */
export type RecipientGroups = readonly (readonly string[])[];

/** The age recipients of each group of `meta`. */
export function recipientGroupsOf(meta: Pick<Metadata, 'keyGroups'>): string[][] {
  return meta.keyGroups.map((g) => g.age.map((k) => k.recipient));
}

/** Names of the non-age key types in the file (pgp, kms, …), for messages. */
function otherKeyTypes(meta: Pick<Metadata, 'keyGroups'>): string[] {
  const names = new Set<string>();
  for (const g of meta.keyGroups) {
    for (const o of g.others) if (!(o.value.type === 'list' && o.value.items.length === 0)) names.add(o.key);
  }
  return [...names];
}

/**
 * Throws `usage` when the file has keys of other types (pgp, kms, …) and the change would need
 * them re-wrapped, which only sops itself can do: a new data key, or new Shamir shares.
 */
function refuseOtherKeys(meta: Pick<Metadata, 'keyGroups'>, file: string, what: string): void {
  const others = otherKeyTypes(meta);
  if (others.length === 0) return;
  throw new WithSecretsError('usage', `${file} also has ${others.join(', ')} keys, which with-secrets cannot wrap a ${what} for`, {
    hint: 'use sops itself for this change (sops updatekeys / sops rotate), or remove those keys with sops first',
  });
}

/** Checks a group layout: at least one group, no empty group, a sensible threshold. */
function checkGroups(groups: RecipientGroups, threshold: number, file: string): void {
  if (groups.length === 0) throw new WithSecretsError('usage', `${file}: no recipients left`, { hint: 'a sops file needs at least one recipient' });
  groups.forEach((g, i) => {
    if (g.length === 0) {
      throw new WithSecretsError('usage', `${file}: ${groups.length > 1 ? `key group ${i + 1}` : 'the file'} would be left without a recipient`, {
        hint: 'add another recipient first, then remove this one',
      });
    }
  });
  if (groups.length > 1 && threshold > groups.length) {
    throw new WithSecretsError('usage', `${file}: shamir_threshold ${threshold} is more than the ${groups.length} key groups`);
  }
}

/** Builds metadata key groups from wrapped age keys, keeping a single group's other key lists when allowed. */
function toKeyGroups(wrapped: Awaited<ReturnType<typeof wrapDataKey>>, keep: readonly KeyGroup[] | undefined): KeyGroup[] {
  return wrapped.map((age, i) => ({ age, others: keep?.[i]?.others ?? [] }));
}

/**
 * Wraps the file's current data key for a new set of recipients, as `sops updatekeys` does: the
 * values stay as they are. With one group, other key types (pgp, kms, …) are kept, since they still
 * wrap the same key; with several groups the Shamir shares are made anew, so every group must be age-only.
 */
export async function rewrapDataKey(meta: Metadata, dataKey: Uint8Array, groups: RecipientGroups, file: string): Promise<Metadata> {
  checkGroups(groups, meta.shamirThreshold, file);
  const single = groups.length === 1 && meta.keyGroups.length === 1;
  if (!single) refuseOtherKeys(meta, file, 'new set of Shamir shares');
  const wrapped = await wrapDataKey(dataKey, groups, meta.shamirThreshold);
  return { ...meta, keyGroups: toKeyGroups(wrapped, single ? meta.keyGroups : undefined) };
}

/**
 * Makes a new random data key and wraps it for `groups` (default: the file's current recipients),
 * as `sops rotate` does; the caller re-encrypts every value with the returned key. Refuses files
 * with other key types, whose holders could not open the new key.
 */
export async function rotateDataKey(meta: Metadata, file: string, groups: RecipientGroups = recipientGroupsOf(meta)): Promise<{ metadata: Metadata; dataKey: Uint8Array }> {
  refuseOtherKeys(meta, file, 'new data key');
  checkGroups(groups, meta.shamirThreshold, file);
  const dataKey = new Uint8Array(randomBytes(DATA_KEY_SIZE));
  const wrapped = await wrapDataKey(dataKey, groups, meta.shamirThreshold);
  return { metadata: { ...meta, keyGroups: toKeyGroups(wrapped, undefined) }, dataKey };
}

/** Whether two recipient strings name the same key (an SSH key's comment does not count). */
export function sameRecipient(a: string, b: string): boolean {
  const norm = (r: string): string => {
    const t = r.trim();
    return t.startsWith('ssh-') ? t.split(/\s+/).slice(0, 2).join(' ') : t;
  };
  return norm(a) === norm(b);
}

/**
 * Adds `recipient` to key group `group` (0-based; default the first). Returns the new groups, or
 * undefined when it is already there.
 */
export function addRecipient(groups: RecipientGroups, recipient: string, group = 0): string[][] | undefined {
  if (group < 0 || group >= groups.length) {
    throw new WithSecretsError('usage', `there is no key group ${group + 1} (the file has ${groups.length})`);
  }
  if (groups[group]!.some((r) => sameRecipient(r, recipient))) return undefined;
  return groups.map((g, i) => (i === group ? [...g, recipient] : [...g]));
}

/** Removes `recipient` from every group. Throws `key-not-found` when no group has it. */
export function removeRecipient(groups: RecipientGroups, recipient: string, file: string): string[][] {
  if (!groups.some((g) => g.some((r) => sameRecipient(r, recipient)))) {
    throw new WithSecretsError('key-not-found', `${recipient} is not a recipient of ${file}`, {
      hint: 'run `with-secrets recipients list` to see them; give the recipient exactly as listed',
    });
  }
  return groups.map((g) => g.filter((r) => !sameRecipient(r, recipient)));
}
