// Validates the NAME of a keyring item (an identity or a token), which is also its keyring account.
import { WithSecretsError } from '../errors.js';

/** Throws `usage` unless `name` is 1–128 characters of letters, digits, `.`, `_`, `-`, `@`, `/` or `:`. */
export function assertKeyringName(name: string, what = 'name'): void {
  if (!/^[A-Za-z0-9._@/:-]{1,128}$/.test(name) || name.startsWith('-')) {
    throw new WithSecretsError('usage', `invalid ${what} ${JSON.stringify(name.slice(0, 40))}`, {
      hint: 'use 1–128 letters, digits and . _ - @ / : (not starting with -)',
    });
  }
}
