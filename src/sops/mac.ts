// The sops MAC: SHA-512 over the plaintext leaves in walk order, stored encrypted under the lastmodified time.
import { createHash, type Hash } from 'node:crypto';
import { WithSecretsError } from '../errors.js';
import { walkBranch, type CompiledRules } from './encryption-rules.js';
import { decryptValue, encryptValue, secondsTime, valueToBytes, type CipherLeaf } from './value-codec.js';
import type { MapNode } from './tree.js';

/** SHA-256("sops"): the 32 bytes hashed first when `mac_only_encrypted` is set (`sops.go:MACOnlyEncryptedInitialization`). */
export const MAC_ONLY_ENCRYPTED_INIT: Uint8Array = new Uint8Array(createHash('sha256').update('sops').digest());

/** An incremental MAC: feed it each leaf in walk order, then read the uppercase hex digest. */
export interface MacHasher {
  /** Adds a plaintext leaf; comments never count, and with `mac_only_encrypted` only encrypted leaves do. */
  add(leaf: CipherLeaf, encrypted: boolean): void;
  /** The 128 uppercase hex characters sops stores. */
  digest(): string;
}

/** Starts a MAC computation as sops' `Tree.Encrypt`/`Tree.Decrypt` do. */
export function createMacHasher(macOnlyEncrypted: boolean): MacHasher {
  const hash: Hash = createHash('sha512');
  if (macOnlyEncrypted) hash.update(MAC_ONLY_ENCRYPTED_INIT);
  return {
    add(leaf, encrypted) {
      if (leaf.type === 'comment') return;
      if (macOnlyEncrypted && !encrypted) return;
      hash.update(valueToBytes(leaf));
    },
    digest: () => hash.digest('hex').toUpperCase(),
  };
}

/** Computes the MAC of plaintext branches under the file's rules (what a writer stores). */
export function computeMac(branches: readonly MapNode[], rules: CompiledRules, macOnlyEncrypted: boolean): string {
  const hasher = createMacHasher(macOnlyEncrypted);
  for (const branch of branches) {
    walkBranch(branch, (leaf, ctx) => {
      hasher.add(leaf, rules.shouldEncrypt(ctx.path, ctx.comments, ctx.isComment));
      return leaf;
    });
  }
  return hasher.digest();
}

/**
 * The additional data of the MAC: `lastmodified` parsed as RFC 3339 and formatted again without
 * fractional seconds (`common.go:DecryptTree`). Throws `malformed` when it is not RFC 3339.
 */
export function macAad(lastmodified: string, origin: string): string {
  const aad = secondsTime(lastmodified);
  if (aad === undefined) throw new WithSecretsError('malformed', `${origin}: sops.lastmodified is not an RFC 3339 time`);
  return aad;
}

/** Encrypts a MAC for the metadata (`type:str`, AAD = re-formatted lastmodified). */
export function encryptMac(mac: string, key: Uint8Array, lastmodified: string, origin: string): string {
  return encryptValue({ type: 'str', value: mac }, key, macAad(lastmodified, origin));
}

/** Which MAC check failed; `mac-mismatch` errors say it in words. */
export type MacFailure = 'no-mac' | 'undecryptable' | 'differs';

/**
 * Checks the stored (encrypted) MAC against the one computed while decrypting. Throws `mac-mismatch`
 * saying which check failed: the file has no MAC, the MAC does not decrypt, or it differs. Neither
 * MAC is printed (a hash of low-entropy values helps guessing them).
 */
export function verifyMac(stored: string, computed: string, key: Uint8Array, lastmodified: string, origin: string): void {
  const hint = 'the file was changed outside sops or is damaged; restore it from a backup, or read it once with --ignore-mac to recover';
  if (stored === '') {
    throw new WithSecretsError('mac-mismatch', `${origin}: integrity check failed: the file has no MAC`, { hint });
  }
  const aad = macAad(lastmodified, origin);
  let plain: string;
  try {
    const leaf = decryptValue(stored, key, aad);
    if (leaf.type !== 'str') throw new WithSecretsError('malformed', 'MAC is not a string');
    plain = leaf.value;
  } catch (cause) {
    throw new WithSecretsError(
      'mac-mismatch',
      `${origin}: integrity check failed: the MAC does not decrypt (it or sops.lastmodified was changed, or it was made with another data key)`,
      { hint, cause },
    );
  }
  if (plain !== computed) {
    throw new WithSecretsError('mac-mismatch', `${origin}: integrity check failed: the MAC differs from the one computed over the values (a value, key or the order was changed)`, { hint });
  }
}
