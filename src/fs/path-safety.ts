// Refuses a key or secret path that passes through a directory another user could change (and so swap the file).
// Synchronous calls: the launch path never loads node:fs/promises (which brings readline and more; perf, issue 7).
import { lstatSync, readFileSync, realpathSync, type Stats } from 'node:fs';
import { join, parse, resolve, sep } from 'node:path';
import { errnoCode, WithSecretsError } from '../errors.js';

const S_ISVTX = 0o1000;

/** Directories already found safe for a uid in this process (a launch reads several files in one folder), per account files. */
const safeDirs = new Map<AccountFiles, Map<number, Set<string>>>();

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

/** Where the user and group databases are read from (see {@link isPrivateGroup}); tests give their own. */
export interface AccountFiles {
  readonly passwd: string;
  readonly group: string;
}

const SYSTEM_ACCOUNTS: AccountFiles = { passwd: '/etc/passwd', group: '/etc/group' };

/** What {@link isPrivateGroup} found, per account files and gid. */
const privateGroups = new Map<AccountFiles, Map<number, boolean>>();

/**
 * True when the group `gid` (equal to its owner's uid, as in the user-private-group scheme) has no
 * other user in it: no one else lists it as a supplementary group or has it as their primary group.
 * A group the files do not list (NSS, LDAP) keeps the gid = uid rule.
 */
function isPrivateGroup(gid: number, owner: number, files: AccountFiles): boolean {
  let known = privateGroups.get(files);
  if (known === undefined) privateGroups.set(files, (known = new Map()));
  const cached = known.get(gid);
  if (cached !== undefined) return cached;
  let alone = true;
  try {
    const users = readFileSync(files.passwd, 'utf8').split('\n').map((l) => l.split(':'));
    const ownerName = users.find((f) => f[2] === String(owner))?.[0];
    if (users.some((f) => f[3] === String(gid) && f[2] !== String(owner))) alone = false;
    const group = readFileSync(files.group, 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[2] === String(gid));
    if (group !== undefined && (group[3] ?? '').split(',').some((m) => m.trim() !== '' && m.trim() !== ownerName)) alone = false;
  } catch {
    /* unreadable databases: the gid = uid rule */
  }
  known.set(gid, alone);
  return alone;
}

/**
 * Checks one directory: owned by `uid` or root, and not writable by group or others — except a
 * sticky directory such as /tmp (only an entry's owner can replace it; the entry is checked
 * instead), and a group-writable one whose group is the owner's private group (gid = uid, nobody
 * else in it).
 */
function checkDir(path: string, dir: string, st: Stats, uid: number, files: AccountFiles): 'ok' | 'sticky' {
  if (st.uid !== uid && st.uid !== 0) refuse(path, dir, `belongs to another user (uid ${st.uid})`, `move the file, or chown ${uid} '${dir}'`);
  const groupWritable = (st.mode & 0o020) !== 0 && !(st.gid === st.uid && isPrivateGroup(st.gid, st.uid, files));
  const othersWritable = (st.mode & 0o002) !== 0;
  if (!groupWritable && !othersWritable) return 'ok';
  if ((st.mode & S_ISVTX) !== 0) return 'sticky';
  return refuse(path, dir, `is writable by ${othersWritable ? 'others' : 'its group'} (mode ${(st.mode & 0o7777).toString(8)})`, `chmod go-w '${dir}'`);
}

async function checkChain(path: string, abs: string, uid: number, files: AccountFiles): Promise<void> {
  let perUid = safeDirs.get(files);
  if (perUid === undefined) safeDirs.set(files, (perUid = new Map()));
  const known = perUid.get(uid) ?? new Set<string>();
  perUid.set(uid, known);
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
    if (checkDir(path, dir, st, uid, files) === 'sticky') {
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
export async function checkPathSafety(path: string, uid: number | undefined, files: AccountFiles = SYSTEM_ACCOUNTS): Promise<void> {
  if (uid === undefined || uid < 0) return;
  const abs = resolve(path);
  await checkChain(path, abs, uid, files);
  let real: string;
  try {
    // The native realpath(3), as fs/promises uses: realpathSync's JS version lstats every component.
    real = realpathSync.native(abs);
  } catch (e) {
    const code = errnoCode(e);
    // Nothing there: the read that follows says so.
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    // The links were skipped above in favour of this check: a path it cannot resolve (too long, too many
    // links) is refused, since the kernel's open may still follow it somewhere unchecked.
    throw new WithSecretsError('permission', `${path}: refused, its symbolic links cannot be followed to check them (${code ?? 'error'})`, {
      cause: e,
      hint: 'give the real path of the file',
    });
  }
  if (real !== abs) await checkChain(path, real, uid, files);
}
