// Encrypts plain branches with a data key under the file's rules and computes their MAC, as sops' Tree.Encrypt.
import { WithSecretsError } from '../errors.js';
import { aadOf, walkBranch, type CompiledRules } from './encryption-rules.js';
import { createMacHasher } from './mac.js';
import { encryptValue, parseGoInt } from './value-codec.js';
import type { MapNode } from './tree.js';

/** Encrypted branches and the MAC of the plaintext (uppercase hex, not yet encrypted). */
export interface EncryptedBranches {
  readonly branches: MapNode[];
  readonly mac: string;
}

/**
 * Encrypts every leaf the rules select (comments included) and hashes the plaintext leaves for the
 * MAC in the same walk. `reuseIv` may return the IV a value had before, so an unchanged value keeps
 * its ciphertext (sops' stash); by default every value gets a fresh IV. Refuses, as sops does, an
 * encrypted comment that would match `unencrypted_comment_regex`.
 */
export function encryptBranches(
  branches: readonly MapNode[],
  key: Uint8Array,
  rules: CompiledRules,
  macOnlyEncrypted: boolean,
  reuseIv?: (aad: string, leaf: unknown) => Uint8Array | undefined,
): EncryptedBranches {
  const hasher = createMacHasher(macOnlyEncrypted);
  const unencComment = rules.rules.unencryptedCommentRegex;
  const out = branches.map((branch) =>
    walkBranch(branch, (leaf, ctx) => {
      const encrypted = rules.shouldEncrypt(ctx.path, ctx.comments, ctx.isComment);
      hasher.add(leaf, encrypted);
      if (!encrypted) return leaf;
      if (leaf.type === 'int' && parseGoInt(leaf.value) === undefined) {
        // YAML reads 2^63 … 2^64-1 as an unsigned integer; sops cannot encrypt one (and could not read it back as an int).
        throw new WithSecretsError('malformed', `the number at ${ctx.path.join('.')} is beyond a 64-bit signed integer, which sops cannot store as a number`, {
          hint: 'quote it in the file to keep it as a string',
        });
      }
      const aad = aadOf(ctx.path);
      const text = encryptValue(leaf, key, aad, reuseIv?.(aad, leaf));
      if (leaf.type === 'comment') {
        if (unencComment !== undefined && text !== '' && rules.shouldEncrypt([], [[text]], false) === false) {
          throw new WithSecretsError('usage', 'an encrypted comment matches unencrypted_comment_regex; change the regex so it cannot match ENC[…]');
        }
        return { type: 'comment', value: text, ...(leaf.inline === undefined ? {} : { inline: leaf.inline }) };
      }
      return { type: 'str', value: text };
    }),
  );
  return { branches: out, mac: hasher.digest() };
}
