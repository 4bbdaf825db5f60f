// The one table of exit codes: every command but the launcher uses 0–9; the launcher uses 125–127 or the child's.
import type { ErrorCode } from '../errors.js';

/** Exit codes of the management commands (never ≥ 125, so they cannot be mistaken for a child's). */
export const EXIT = {
  ok: 0,
  checkFailed: 1,
  usage: 2,
  configInvalid: 3,
  noIdentity: 4,
  integrity: 5,
  malformed: 6,
  keyNotFound: 7,
  keyring: 8,
  io: 9,
} as const;

/** Exit codes of the launcher, as GNU env and timeout use them. */
export const LAUNCH_EXIT = {
  failure: 125,
  notExecutable: 126,
  notFound: 127,
} as const;

const byCode: Record<ErrorCode, number> = {
  usage: EXIT.usage,
  'config-invalid': EXIT.configInvalid,
  'profile-unknown': EXIT.configInvalid,
  'no-identity': EXIT.noIdentity,
  'identity-invalid': EXIT.noIdentity,
  'no-tty': EXIT.noIdentity,
  'mac-mismatch': EXIT.integrity,
  'decrypt-failed': EXIT.integrity,
  malformed: EXIT.malformed,
  'key-not-found': EXIT.keyNotFound,
  'value-not-scalar': EXIT.keyNotFound,
  'env-invalid': EXIT.configInvalid,
  'env-too-large': EXIT.usage,
  'dangerous-variable': EXIT.configInvalid,
  'keyring-unavailable': EXIT.keyring,
  'keyring-locked': EXIT.keyring,
  'keyring-not-found': EXIT.keyring,
  permission: EXIT.io,
  io: EXIT.io,
  exists: EXIT.io,
  'lock-timeout': EXIT.io,
  'command-not-found': EXIT.usage,
  'command-not-executable': EXIT.usage,
  'check-failed': EXIT.checkFailed,
  internal: EXIT.io,
};

/** The exit code of a management command that failed with `code`. */
export function exitCodeFor(code: ErrorCode): number {
  return byCode[code];
}

/** The exit code of the launcher when with-secrets itself failed with `code`. */
export function launchExitCodeFor(code: ErrorCode): number {
  if (code === 'command-not-found') return LAUNCH_EXIT.notFound;
  if (code === 'command-not-executable') return LAUNCH_EXIT.notExecutable;
  return LAUNCH_EXIT.failure;
}
