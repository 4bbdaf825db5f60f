// Refuses a key or secret path that passes through a directory another user could change (and so swap the file).
// Synchronous calls: the launch path never loads node:fs/promises (which brings readline and more; perf, issue 7).
import { lstatSync, realpathSync, type Stats } from 'node:fs';
import { join, parse, resolve, sep } from 'node:path';
import { errnoCode, WithSecretsError } from '../errors.js';

const S_ISVTX = 0o1000;

/** Directories already found safe for a uid in this process (a launch reads several files in one folder). */
const safeDirs = new Map<number, Set<string>>();

/** The directories from the root down to the parent of `abs` (absolute, normalised). */
function ancestors(abs: string): string[] {
  const { root } = parse(abs);
  const parts = abs.slice(root.length).split(sep).filter(Boolean);
  const out = [root];
  for (let i = 0; i < parts.length - 1; i++) out.push(join(out[out.length - 1]!, parts[i]!));
  return out;
}

function refuse(path: string, dir: string, why: string, hint: string): never {
  throw new WithSecretsError('permission', `${path}: refused, the directory ${dir} ${why}`, {
    hint: `${hint} (anyone who can change that directory can put their own file at ${path})`,
  });
}

/**
 * Checks one directory: owned by `uid` or root, and not writable by group or others — except a
 * sticky directory such as /tmp (only an entry's owner can replace it; the entry is checked
 * instead), and a group-writable one whose group is the owner's private group (gid = uid).
 */
function checkDir(path: string, dir: string, st: Stats, uid: number): 'ok' | 'sticky' {
  if (st.uid !== uid && st.uid !== 0) refuse(path, dir, `belongs to another user (uid ${st.uid})`, `move the file, or chown ${uid} '${dir}'`);
  const groupWritable = (st.mode & 0o020) !== 0 && st.gid !== st.uid;
  const othersWritable = (st.mode & 0o002) !== 0;
  if (!groupWritable && !othersWritable) return 'ok';
  if ((st.mode & S_ISVTX) !== 0) return 'sticky';
  return refuse(path, dir, `is writable by ${othersWritable ? 'others' : 'its group'} (mode ${(st.mode & 0o7777).toString(8)})`, `chmod go-w '${dir}'`);
}

async function checkChain(path: string, abs: string, uid: number): Promise<void> {
  const known = safeDirs.get(uid) ?? new Set<string>();
  safeDirs.set(uid, known);
  const dirs = ancestors(abs);
  for (let i = 0; i < dirs.length; i++) {
    const dir = dirs[i]!;
    if (known.has(dir)) continue;
    let st: Stats;
    try {
      st = lstatSync(dir);
    } catch (e) {
      // A missing directory: the read that follows reports it.
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return;
      throw new WithSecretsError('io', `${path}: cannot check the directory ${dir} (${errnoCode(e) ?? 'error'})`, { cause: e });
    }
    // A symbolic link in the path: its target is checked through the resolved path.
    if (st.isSymbolicLink()) continue;
    if (checkDir(path, dir, st, uid) === 'sticky') {
      // In a sticky world-writable directory the next entry must be ours (or root's), or someone else made it.
      const next = dirs[i + 1] ?? abs;
      let entry: Stats | undefined;
      try {
        entry = lstatSync(next);
      } catch {
        entry = undefined;
      }
      if (entry !== undefined && entry.uid !== uid && entry.uid !== 0) refuse(path, next, `was made by another user (uid ${entry.uid}) in the shared directory ${dir}`, 'keep keys and secrets in a directory of your own');
      continue;
    }
    known.add(dir);
  }
}

/**
 * Refuses `path` (a key file or a secrets file) when a directory on the way to it, before or
 * after resolving symbolic links, belongs to a user other than `uid` and root, or is writable by
 * others. `uid` undefined (no POSIX ids) skips the check. Throws `permission` naming the directory.
 */
export async function checkPathSafety(path: string, uid: number | undefined): Promise<void> {
  if (uid === undefined || uid < 0) return;
  const abs = resolve(path);
  await checkChain(path, abs, uid);
  let real: string;
  try {
    // The native realpath(3), as fs/promises uses: realpathSync's JS version lstats every component.
    real = realpathSync.native(abs);
  } catch {
    return;
  }
  if (real !== abs) await checkChain(path, real, uid);
}
