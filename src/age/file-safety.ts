// Refuses key files that someone else could have written, and warns about ones others can read.
// Synchronous calls: the launch path never loads node:fs/promises (which brings readline and more; perf, issue 7).
import { closeSync, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { WithSecretsError, errnoCode } from '../errors.js';
import { checkPathSafety } from '../fs/path-safety.js';

/** What {@link checkKeyFileMode} found: nothing, or a warning to show (the file is still used). */
export type ModeFinding = { readonly ok: true; readonly warning?: string };

/**
 * Checks the owner and mode of a key file. Writable by group or others, or owned by another user,
 * is refused with `permission`: whoever can write it can swap in their own key. Readable by group or others gives a warning with
 * the `chmod 600` that fixes it (sops accepts such files, and many setups have them).
 */
export function checkKeyFileMode(path: string, st: Pick<Stats, 'mode' | 'uid'>, uid: number | undefined): ModeFinding {
  if (uid !== undefined && uid >= 0 && st.uid !== uid) {
    throw new WithSecretsError('permission', `${path}: owned by another user (uid ${st.uid}), refused`, {
      hint: `a key file must belong to you: chown ${uid} '${path}'`,
    });
  }
  if ((st.mode & 0o022) !== 0) {
    throw new WithSecretsError('permission', `${path}: writable by ${(st.mode & 0o020) !== 0 ? 'group' : 'others'}, refused`, {
      hint: `chmod 600 '${path}'`,
    });
  }
  if ((st.mode & 0o044) !== 0) {
    return { ok: true, warning: `${path}: readable by ${(st.mode & 0o040) !== 0 ? 'group' : 'others'}; fix with: chmod 600 '${path}'` };
  }
  return { ok: true };
}

/** The bytes of a key file, or `undefined` when it does not exist. */
export interface KeyFileRead {
  readonly bytes: Buffer;
  readonly warning?: string;
}

/**
 * Opens `path`, checks it with {@link checkKeyFileMode} on the opened descriptor (no race between
 * check and read) and reads at most `maxBytes`. Returns undefined when the file does not exist.
 */
export async function readKeyFile(path: string, uid: number | undefined, maxBytes = 1024 * 1024): Promise<KeyFileRead | undefined> {
  await checkPathSafety(path, uid);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'EACCES') throw new WithSecretsError('permission', `${path}: not readable (permission denied)`, { cause: e });
    throw new WithSecretsError('io', `${path}: cannot open (${code ?? 'error'})`, { cause: e });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new WithSecretsError('io', `${path}: not a regular file`);
    const finding = checkKeyFileMode(path, st, uid);
    if (st.size > maxBytes) throw new WithSecretsError('identity-invalid', `${path}: larger than ${maxBytes} bytes, not a key file`);
    const bytes = readFileSync(fd);
    return finding.warning === undefined ? { bytes } : { bytes, warning: finding.warning };
  } catch (e) {
    if (e instanceof WithSecretsError) throw e;
    throw new WithSecretsError('io', `${path}: cannot read (${errnoCode(e) ?? 'error'})`, { cause: e });
  } finally {
    closeSync(fd);
  }
}
