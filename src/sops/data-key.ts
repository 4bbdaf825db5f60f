// Unwraps a sops data key from the age `enc` armors of its key groups (Shamir across groups), and wraps new ones.
import type { Identity, Recipient } from 'age-encryption';
import { WithSecretsError } from '../errors.js';
import type { IdentityProvider } from '../age/provider.js';
import { AgeFileError, unwrapArmoredX25519 } from '../age/x25519-unwrap.js';
import type { AgeKey, Metadata } from './metadata.js';
import { combineShares, splitSecret } from './shamir.js';

/** The data key length (AES-256). */
export const DATA_KEY_SIZE = 32;

/** What {@link unwrapDataKey} needs: the file (for messages), its metadata, and where identities come from. */
export interface UnwrapOptions {
  readonly file: string;
  readonly metadata: Pick<Metadata, 'keyGroups' | 'shamirThreshold'>;
  readonly identities: IdentityProvider;
}

/** Why one age key of a group did not open. Never holds key material or file content. */
export type KeyFailure = 'not tried (no identity found)' | 'no identity matched' | 'malformed age data' | 'wrong length' | 'failed';

/**
 * Opens one armored age file (a sops `enc`) with the identities of one source: the plaintext, or why
 * not. X25519-only sources take the node:crypto fast path of src/age; anything else (post-quantum,
 * SSH) goes through age-encryption, loaded only then. Every stanza is tried against every identity.
 */
export async function openAgeArmor(enc: string, identities: readonly Identity[]): Promise<Uint8Array | KeyFailure> {
  if (identities.length === 0) return 'no identity matched';
  try {
    const fast = unwrapArmoredX25519(enc, identities);
    if (fast !== undefined) return fast === null ? 'no identity matched' : new Uint8Array(fast);
  } catch (err) {
    return err instanceof AgeFileError && err.failure === 'armor' ? 'malformed age data' : 'failed';
  }
  const age = await import('age-encryption');
  let file: Uint8Array;
  try {
    file = age.armor.decode(enc);
  } catch {
    return 'malformed age data';
  }
  const d = new age.Decrypter();
  for (const identity of identities) d.addIdentity(identity);
  try {
    return await d.decrypt(file);
  } catch (err) {
    // age-encryption throws plain Errors; only its "no identity matched" text is a normal outcome.
    return err instanceof Error && /no identity matched/.test(err.message) ? 'no identity matched' : 'failed';
  }
}

/**
 * Recovers the 32-byte data key. Sources are taken from the provider in order, each loaded only
 * when the groups still unopened need it; each source's identities are tried against every age key
 * of every unopened group, and the walk stops as soon as enough groups are open (one group: the
 * key itself; several: `shamir_threshold` shares, all groups when it is 0, combined with Shamir).
 * Throws `no-identity` listing the file, each group's recipients and every source tried.
 */
export async function unwrapDataKey(options: UnwrapOptions): Promise<Uint8Array> {
  const { file, metadata, identities } = options;
  const groups = metadata.keyGroups;
  const multi = groups.length > 1;
  const enough = multi ? (metadata.shamirThreshold > 0 ? Math.min(metadata.shamirThreshold, groups.length) : groups.length) : 1;
  const minimum = multi ? Math.max(2, metadata.shamirThreshold) : 1;
  const parts = new Map<number, Uint8Array>();
  const failures = groups.map((g) => new Map<string, KeyFailure>(g.age.map((k) => [k.recipient, 'not tried (no identity found)'])));

  if (groups.every((g) => g.age.length === 0)) {
    throw new WithSecretsError('no-identity', `${file}: no age recipient in the file (only other key types such as pgp or kms)`, {
      hint: 'with-secrets reads age-encrypted sops files; re-encrypt it with `sops updatekeys` to an age recipient',
    });
  }

  outer: for await (const source of identities.sources()) {
    if (source.identities.length === 0) continue;
    for (let g = 0; g < groups.length; g++) {
      if (parts.has(g)) continue;
      for (const key of groups[g]!.age) {
        const out = await openAgeArmor(key.enc, source.identities);
        if (typeof out === 'string') {
          // Keep the most telling failure per key: anything beats "no identity matched".
          const before = failures[g]!.get(key.recipient);
          if (out !== 'no identity matched' || before === 'not tried (no identity found)') failures[g]!.set(key.recipient, out);
          continue;
        }
        const want = multi ? DATA_KEY_SIZE + 1 : DATA_KEY_SIZE;
        if (out.length !== want) {
          failures[g]!.set(key.recipient, 'wrong length');
          continue;
        }
        parts.set(g, out);
        break;
      }
      if (parts.size >= enough) break outer;
    }
  }

  if (parts.size >= minimum) {
    if (!multi) return parts.get(0)!;
    const key = combineShares([...parts.values()]);
    if (key.length !== DATA_KEY_SIZE) throw new WithSecretsError('malformed', `${file}: the Shamir shares do not give a 32-byte data key`);
    return key;
  }
  throw noIdentityError(file, groups, failures, identities.report(), multi ? { opened: parts.size, needed: minimum } : undefined);
}

function noIdentityError(
  file: string,
  groups: Metadata['keyGroups'],
  failures: Map<string, KeyFailure>[],
  tried: readonly string[],
  shamir: { opened: number; needed: number } | undefined,
): WithSecretsError {
  const lines = [`no identity opened ${file}`];
  if (shamir) lines.push(`  ${shamir.opened} of the ${shamir.needed} key groups needed were opened`);
  groups.forEach((g, i) => {
    lines.push(`  recipients${groups.length > 1 ? ` of group ${i + 1}` : ''}:`);
    if (g.age.length === 0) lines.push('    (no age recipient)');
    for (const k of g.age) lines.push(`    ${k.recipient || '(unnamed)'}: ${failures[i]!.get(k.recipient) ?? 'not tried'}`);
  });
  lines.push('  identity sources tried:');
  if (tried.length === 0) lines.push('    (none found)');
  for (const t of tried) lines.push(`    ${t}`);
  return new WithSecretsError('no-identity', lines.join('\n'), {
    hint: 'put the age key of one of these recipients in SOPS_AGE_KEY_FILE or $XDG_CONFIG_HOME/sops/age/keys.txt, or list it under identities: in the config',
  });
}

/** A recipient to wrap for: a recipient string (`age1…`, `age1pq1…`, `ssh-ed25519 …`, `ssh-rsa …`) or an object carrying its text. */
export type WrapRecipient = string | (Recipient & { readonly text: string });

/** Wraps one secret (a data key or a Shamir share) for each recipient, one armored age file each, as sops does. */
async function wrapFor(secret: Uint8Array, recipients: readonly WrapRecipient[]): Promise<AgeKey[]> {
  const age = await import('age-encryption');
  const out: AgeKey[] = [];
  for (const r of recipients) {
    const parsed = typeof r === 'string' ? (await import('../age/recipient.js')).parseRecipient(r) : r;
    const e = new age.Encrypter();
    e.addRecipient(parsed);
    out.push({ recipient: parsed.text, enc: age.armor.encode(await e.encrypt(secret)) });
  }
  return out;
}

/**
 * Wraps a data key for writers. `groups` holds the recipients of each key group: one group gets the
 * key itself; several get Shamir shares of it (`threshold`, default all groups), one share per group.
 * Returns the age keys of each group in order.
 */
export async function wrapDataKey(key: Uint8Array, groups: readonly (readonly WrapRecipient[])[], threshold = 0): Promise<AgeKey[][]> {
  if (key.length !== DATA_KEY_SIZE) throw new WithSecretsError('internal', 'data key must be 32 bytes');
  if (groups.length === 0 || groups.some((g) => g.length === 0)) throw new WithSecretsError('usage', 'every key group needs at least one recipient');
  if (groups.length === 1) return [await wrapFor(key, groups[0]!)];
  const shares = splitSecret(key, groups.length, threshold > 0 ? threshold : groups.length);
  return Promise.all(groups.map((g, i) => wrapFor(shares[i]!, g)));
}
