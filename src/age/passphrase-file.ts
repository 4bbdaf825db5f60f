// Unlocks a passphrase-protected age identity file (`age -p` over a key file), as age and sops read them.
import { Decrypter, armor } from 'age-encryption';
import { WithSecretsError } from '../errors.js';
import type { ContentContext } from './identity-content.js';

/** How often a wrong passphrase may be retyped before giving up. */
const ATTEMPTS = 3;

/**
 * Decrypts an scrypt-encrypted age file (binary or armored) with a passphrase asked through
 * `ctx.askPassphrase`, and returns its plaintext (a key file). Without a terminal (`ctx.interactive`
 * false) it fails with `no-tty` before asking anything.
 */
export async function unlockIdentityFile(bytes: Uint8Array, label: string, ctx: ContentContext): Promise<Uint8Array> {
  if (!ctx.interactive) {
    throw new WithSecretsError('no-tty', `${label}: passphrase-protected, and there is no terminal to ask for the passphrase`, {
      hint: 'run with-secrets from a terminal, or keep the key where no passphrase is needed (an unprotected 0600 key file, the OS keyring, SOPS_AGE_KEY_CMD)',
    });
  }
  let data: Uint8Array;
  try {
    const text = Buffer.from(bytes).toString('utf8');
    data = text.trimStart().startsWith('-----BEGIN AGE ENCRYPTED FILE-----') ? armor.decode(text.trim()) : bytes;
  } catch (e) {
    throw new WithSecretsError('identity-invalid', `${label}: malformed armored age file`, { cause: e });
  }
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const passphrase = await ctx.askPassphrase(`Enter passphrase for ${label}: `);
    if (passphrase === '') throw new WithSecretsError('identity-invalid', `${label}: no passphrase given`);
    const decrypter = new Decrypter();
    decrypter.addPassphrase(passphrase);
    try {
      return await decrypter.decrypt(data);
    } catch (e) {
      const wrong = e instanceof Error && /no identity matched/.test(e.message);
      if (!wrong) {
        throw new WithSecretsError('identity-invalid', `${label}: not a passphrase-protected age file, or damaged`, { cause: e });
      }
      if (attempt < ATTEMPTS) ctx.notes(`${label}: wrong passphrase, try again`);
    }
  }
  throw new WithSecretsError('identity-invalid', `${label}: wrong passphrase (${ATTEMPTS} attempts)`);
}
