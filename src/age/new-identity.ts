// Makes new age identities and writes them where sops reads them: appended to a 0600 key file.
import { constants } from 'node:fs';
import { mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WithSecretsError, errnoCode } from '../errors.js';
import { checkKeyFileMode } from './file-safety.js';

/** A new identity as key-file text (age-keygen's layout) and its recipient. */
export interface NewIdentity {
  /** `# created: …`, `# public key: …` and the secret key line, newline-terminated. Key material: never print. */
  readonly text: string;
  readonly recipient: string;
}

/** Generates an X25519 identity, or a post-quantum hybrid one with `postQuantum`, laid out as age-keygen does. */
export async function generateNewIdentity(options: { postQuantum?: boolean; now?: Date } = {}): Promise<NewIdentity> {
  const age = await import('age-encryption');
  const secret = options.postQuantum ? await age.generateHybridIdentity() : await age.generateX25519Identity();
  const recipient = await age.identityToRecipient(secret);
  const created = (options.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { text: `# created: ${created}\n# public key: ${recipient}\n${secret}\n`, recipient };
}

/**
 * Appends `text` to the key file `path`, creating it (mode 0600, missing directories 0700) when
 * absent. An existing file keeps its keys: sops and age read every key in the file, so appending
 * never locks anyone out. An existing file that fails the safety rules (others can write it, another
 * user owns it) is refused; one others can read is used, with a `warning` to show. The data is fsynced
 * before returning; when it cannot all be written, the file is put back as it was (removed, if this
 * call created it).
 */
export async function appendToKeyFile(path: string, text: string, uid: number | undefined): Promise<{ readonly how: 'created' | 'appended'; readonly warning?: string }> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new WithSecretsError('io', `${dirname(path)}: cannot create the directory (${errnoCode(e) ?? 'error'})`, { cause: e });
  }
  let fh: FileHandle;
  let created = true;
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (e) {
    if (errnoCode(e) !== 'EEXIST') throw new WithSecretsError('io', `${path}: cannot create (${errnoCode(e) ?? 'error'})`, { cause: e });
    created = false;
    try {
      fh = await open(path, constants.O_RDWR | constants.O_APPEND);
    } catch (e2) {
      throw new WithSecretsError(errnoCode(e2) === 'EACCES' ? 'permission' : 'io', `${path}: cannot open for appending (${errnoCode(e2) ?? 'error'})`, { cause: e2 });
    }
  }
  let keptSize = 0;
  let warning: string | undefined;
  let wrote = false;
  try {
    let prefix = '';
    if (!created) {
      const st = await fh.stat();
      if (!st.isFile()) throw new WithSecretsError('io', `${path}: not a regular file`);
      warning = checkKeyFileMode(path, st, uid).warning;
      keptSize = st.size;
      if (st.size > 0) {
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, st.size - 1);
        if (last[0] !== 0x0a) prefix = '\n';
      }
    }
    const bytes = Buffer.from(prefix + text);
    try {
      wrote = true;
      // One write may take only part of the data (a nearly full disk): write the rest, or fail.
      for (let off = 0; off < bytes.length; ) {
        const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
        if (bytesWritten === 0) throw Object.assign(new Error('no space left'), { code: 'ENOSPC' });
        off += bytesWritten;
      }
      await fh.sync();
    } finally {
      bytes.fill(0);
    }
  } catch (e) {
    // A cut-off key line makes age and sops reject the whole file, the keys already in it too: put it back.
    const restored = !wrote || (await restore(fh, path, created, keptSize));
    const lost = restored ? '' : `; ${path} may now end in a partial line: remove the lines after the last complete key`;
    if (e instanceof WithSecretsError) throw e;
    throw new WithSecretsError('io', `${path}: cannot write (${errnoCode(e) ?? 'error'})${lost}`, {
      cause: e,
      ...(restored ? { hint: created ? 'nothing was written; free some space and run it again' : 'the file is as it was; free some space and run it again' } : {}),
    });
  } finally {
    await fh.close();
  }
  const how = created ? 'created' : 'appended';
  return warning === undefined ? { how } : { how, warning };
}

/** Undoes a failed append: back to the size it had, or removed when this call created it. True when that worked. */
async function restore(fh: FileHandle, path: string, created: boolean, size: number): Promise<boolean> {
  try {
    if (created) {
      await unlink(path);
    } else {
      await fh.truncate(size);
      await fh.sync();
    }
    return true;
  } catch {
    return false;
  }
}
