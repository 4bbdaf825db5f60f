// The one error type of with-secrets: a stable code, a message safe to print, an optional hint and cause.

/**
 * Stable error codes. The CLI maps each to an exit code (see `src/cli/exit-codes.ts`);
 * tests and scripts may rely on them, so add codes but never rename one.
 */
export type ErrorCode =
  | 'usage'
  | 'config-invalid'
  | 'profile-unknown'
  | 'no-identity'
  | 'identity-invalid'
  | 'mac-mismatch'
  | 'decrypt-failed'
  | 'malformed'
  | 'key-not-found'
  | 'value-not-scalar'
  | 'env-invalid'
  | 'env-too-large'
  | 'dangerous-variable'
  | 'keyring-unavailable'
  | 'keyring-locked'
  | 'keyring-not-found'
  | 'no-tty'
  | 'permission'
  | 'io'
  | 'exists'
  | 'lock-timeout'
  | 'command-not-found'
  | 'command-not-executable'
  | 'check-failed'
  | 'internal';

/** Options accepted by {@link WithSecretsError}. */
export interface WithSecretsErrorOptions {
  /** What the user can do about it, printed as a `hint:` line. */
  hint?: string;
  /** The underlying error; kept for `--verbose`, never printed when it could hold a value. */
  cause?: unknown;
}

/**
 * Base class of every error with-secrets throws on purpose. Messages name files, key paths,
 * lines and identity sources, and never a decrypted value or key material.
 */
export class WithSecretsError extends Error {
  override readonly name: string = 'WithSecretsError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: WithSecretsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
  }
}

/** A failure that means with-secrets itself is wrong; reported as a bug. */
export class InternalError extends WithSecretsError {
  override readonly name = 'InternalError';
  constructor(message: string, options: WithSecretsErrorOptions = {}) {
    super('internal', message, options);
  }
}

/** True when `e` is a {@link WithSecretsError}, optionally with the given code. */
export function isWithSecretsError(e: unknown, code?: ErrorCode): e is WithSecretsError {
  return e instanceof WithSecretsError && (code === undefined || e.code === code);
}

/** The errno code (`ENOENT`, `EACCES`, …) of a Node system error, if it is one. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    return (e as { code: string }).code;
  }
  return undefined;
}
