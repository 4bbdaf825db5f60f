// Keeps the old ciphertext of every value a write did not change, as sops' cipher stash does, so a diff shows only the change.
import { createHash } from 'node:crypto';
import { aadOf, walkBranch, type WalkLeaf } from './encryption-rules.js';
import { looksEncrypted, parseEncryptedValue, valueToBytes } from './value-codec.js';
import type { MapNode } from './tree.js';

/** Old IVs by (additional data, type, plaintext), each used at most once. */
export type IvStash = Map<string, Uint8Array[]>;

/** A digest of what makes an old IV safe to reuse: the same AAD, type and plaintext bytes (so the same ciphertext). */
function stashKey(aad: string, leaf: WalkLeaf): string {
  const h = createHash('sha256');
  h.update(`${aad}\0${leaf.type}\0`);
  h.update(leaf.type === 'comment' ? Buffer.from(leaf.value, 'utf8') : valueToBytes(leaf));
  return h.digest('base64');
}

/** Leaves of `branch` in walk order, with their AAD. */
function leavesOf(branch: MapNode): [WalkLeaf, string][] {
  const out: [WalkLeaf, string][] = [];
  walkBranch(branch, (leaf, ctx) => {
    out.push([leaf, aadOf(ctx.path)]);
    return leaf;
  });
  return out;
}

/**
 * Remembers the IV of every encrypted leaf of a file as read: `plain` and `encrypted` are the same
 * branches after and before decryption (same shape, so their leaves pair up in walk order). Only
 * valid while the data key stays the same; a rotation must not use it.
 */
export function stashIvs(plain: readonly MapNode[], encrypted: readonly MapNode[]): IvStash {
  const stash: IvStash = new Map();
  plain.forEach((branch, b) => {
    const p = leavesOf(branch);
    const e = leavesOf(encrypted[b] ?? { type: 'map', items: [] });
    if (p.length !== e.length) return;
    p.forEach(([leaf, aad], i) => {
      const enc = e[i]![0];
      if (!((enc.type === 'str' || enc.type === 'comment') && looksEncrypted(enc.value))) return;
      let iv: Uint8Array;
      try {
        iv = parseEncryptedValue(enc.value).iv;
      } catch {
        return;
      }
      const key = stashKey(aad, leaf);
      const list = stash.get(key);
      if (list === undefined) stash.set(key, [iv]);
      else list.push(iv);
    });
  });
  return stash;
}

/**
 * The `reuseIv` callback for encryptBranches: the old IV of a leaf with the same AAD, type and
 * plaintext, so an unchanged value encrypts to the bytes it had. Each old IV is handed out once,
 * so two equal values never become newly equal on disk, and an IV never meets another plaintext.
 */
export function ivReuser(stash: IvStash): (aad: string, leaf: unknown) => Uint8Array | undefined {
  return (aad, leaf) => stash.get(stashKey(aad, leaf as WalkLeaf))?.shift();
}
