// Writes a small private file (mode 0600) whole or not at all, synchronously: the caches use it on the launch path.
import { closeSync, constants as fsConstants, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/**
 * Writes `data` to `path` through a new private temp file beside it (exclusive create, no symlink
 * followed) and a rename, so readers see the old file or the new one. On failure the temp file is
 * removed and the error thrown; callers whose file is only an optimisation ignore it.
 */
export function writePrivateFileSync(path: string, data: string | Uint8Array): void {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fd = openSync(temp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o600);
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      /* nothing to remove */
    }
    throw err;
  }
}
