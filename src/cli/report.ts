// Turns an error into the two lines a user reads: `with-secrets: …` and `hint: …`.
import { InternalError, WithSecretsError } from '../errors.js';

/**
 * Formats an error for stderr. Unknown errors are reported as bugs with their class name only:
 * a third-party message could quote input, so it is shown only under `verbose` when it is ours.
 */
export function formatError(err: unknown, verbose = false): string {
  if (err instanceof WithSecretsError) {
    let out = `with-secrets: ${err.message}\n`;
    if (err.hint) out += `hint: ${err.hint}\n`;
    if (verbose && err.cause instanceof WithSecretsError) out += `cause: ${err.cause.message}\n`;
    if (err instanceof InternalError) out += 'hint: this is a bug in with-secrets; please report it\n';
    return out;
  }
  const name = err instanceof Error ? err.name : typeof err;
  return `with-secrets: internal error (${name})\nhint: this is a bug in with-secrets; please report it\n`;
}
