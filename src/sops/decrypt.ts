// Decrypts the branches of a sops document with its data key and computes the MAC on the way, as sops' Tree.Decrypt.
import { WithSecretsError } from '../errors.js';
import { aadOf, walkBranch, type CompiledRules, type WalkLeaf } from './encryption-rules.js';
import { createMacHasher } from './mac.js';
import { decryptValue } from './value-codec.js';
import type { MapNode } from './tree.js';

/** Decrypted branches and the MAC computed over them (uppercase hex; undefined when `only` skipped leaves). */
export interface DecryptedBranches {
  readonly branches: MapNode[];
  readonly mac: string | undefined;
}

/** Options of {@link decryptBranches}. */
export interface DecryptOptions {
  /**
   * Decrypt only the leaves (objects of the input tree) in this set; every other leaf is returned
   * as it is, still encrypted, and no MAC is computed. Only for a file whose MAC is known to verify
   * (src/sops/mac-memo.ts).
   */
  readonly only?: ReadonlySet<WalkLeaf>;
}

/** Prints a tree location for messages: `a.b[0].c`, or `(top level)`. */
function showPath(location: readonly (string | number)[]): string {
  if (location.length === 0) return '(top level)';
  return location
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z0-9_-]+$/.test(p) ? (i === 0 ? p : '.' + p) : `[${JSON.stringify(p)}]`))
    .join('');
}

/**
 * Decrypts every leaf the rules say is encrypted and hashes the plaintext leaves for the MAC. Errors:
 * `decrypt-failed` naming the file and tree path when a value does not authenticate; `malformed` when
 * an encrypted leaf is not a string or not a valid `ENC[…]` value. A comment that does not decrypt is
 * kept as it is (sops: "possibly unencrypted comment"). Messages never hold a value.
 */
export function decryptBranches(
  branches: readonly MapNode[],
  key: Uint8Array,
  rules: CompiledRules,
  macOnlyEncrypted: boolean,
  file: string,
  options: DecryptOptions = {},
): DecryptedBranches {
  const only = options.only;
  // With `only`, no MAC is computed (the caller's memo vouches for the file): nothing is hashed, and
  // the other leaves are not even visited.
  const hasher = only === undefined ? createMacHasher(macOnlyEncrypted) : undefined;
  const skip = only === undefined ? undefined : (leaf: WalkLeaf) => !only.has(leaf);
  const out = branches.map((branch) =>
    walkBranch(branch, (leaf, ctx) => {
      const encrypted = rules.shouldEncrypt(ctx.path, ctx.comments, ctx.isComment);
      let plain = leaf;
      if (encrypted) {
        if (leaf.type === 'comment') {
          try {
            const c = decryptValue(leaf.value, key, aadOf(ctx.path));
            const inline = leaf.inline === undefined ? {} : { inline: leaf.inline };
            plain = c.type === 'str' || c.type === 'comment' ? { type: 'comment', value: c.value, ...inline } : leaf;
          } catch {
            plain = leaf;
          }
        } else if (leaf.type !== 'str') {
          throw new WithSecretsError('malformed', `${file}: ${showPath(ctx.location)}: expected an encrypted value (a string), found a ${leaf.type}`, {
            hint: 'the file was edited by hand or by another tool; restore it, or encrypt it again with sops',
          });
        } else {
          try {
            plain = decryptValue(leaf.value, key, aadOf(ctx.path));
          } catch (cause) {
            const code = cause instanceof WithSecretsError && cause.code === 'decrypt-failed' ? 'decrypt-failed' : 'malformed';
            const why = cause instanceof WithSecretsError ? cause.message : 'cannot be decrypted';
            throw new WithSecretsError(code, `${file}: ${showPath(ctx.location)}: ${why}`, {
              cause,
              hint:
                code === 'decrypt-failed'
                  ? 'the value, its key name or its place in the file was changed, or it belongs to another file'
                  : 'the file was edited by hand or is damaged; restore it from a backup',
            });
          }
          if (plain.type === 'comment') {
            throw new WithSecretsError('malformed', `${file}: ${showPath(ctx.location)}: a value decrypts to a comment`);
          }
        }
      }
      hasher?.add(plain, encrypted);
      return plain;
    }, skip),
  );
  return { branches: out, mac: hasher?.digest() };
}
