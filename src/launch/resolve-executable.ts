// Finds the program to start: a PATH search that skips with-secrets shims (so a shim never loops) and checks what execve will accept.
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { errnoCode, WithSecretsError } from '../errors.js';
import { EXEC_HEAD_BYTES, judgeExecutable, readHead } from './exec-format.js';
import { SHIM_MARKER, SHIM_MARKER_WINDOW } from './shim-marker.js';

/** The shell that runs a script without a `#!` line, as POSIX shells do on ENOEXEC. */
export const FALLBACK_SHELL = '/bin/sh';

/** What to execute: the file itself, or `/bin/sh FILE` for a script without a shebang. */
export interface ResolvedExecutable {
  /** The executable that was found (absolute). */
  readonly path: string;
  /** True when it is a text file without `#!`: run it as `/bin/sh path args…`. */
  readonly viaShell: boolean;
  /** When it, or an interpreter or loader it needs, last changed (ms since the epoch; 0 when not known). */
  readonly lastChange: number;
}

/** Inputs of {@link resolveExecutable}. */
export interface ResolveOptions {
  /** The PATH to search (the parent's). */
  readonly pathEnv: string | undefined;
  readonly cwd: string;
  /** Real paths to skip as well as marked shims (the with-secrets bin itself). */
  readonly skipRealPaths?: readonly string[];
}

/**
 * What a path holds. `not-executable` with `found` is an executable file the kernel would refuse: the
 * shells stop at it (126/127); without, a file they pass over while searching PATH (no x bit, a directory).
 */
type Candidate = { kind: 'ok'; resolved: ResolvedExecutable } | { kind: 'shim' } | { kind: 'not-executable'; why: string; found?: true } | { kind: 'absent' };

/** True when the executable at `path` is a with-secrets PATH shim (its first bytes carry the marker). */
export function isShim(path: string): boolean {
  try {
    return readHead(path, SHIM_MARKER_WINDOW).includes(SHIM_MARKER);
  } catch {
    return false;
  }
}

function examine(path: string, skip: ReadonlySet<string>, cwd: string): Candidate {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return { kind: 'absent' };
    return { kind: 'not-executable', why: `cannot be examined (${code ?? 'error'})` };
  }
  if (st.isDirectory()) return { kind: 'not-executable', why: 'is a directory' };
  if (!st.isFile()) return { kind: 'not-executable', why: 'is not a regular file' };
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return { kind: 'not-executable', why: 'is not executable (permission denied)' };
  }
  let head: Buffer;
  try {
    head = readHead(path, EXEC_HEAD_BYTES);
  } catch {
    // Executable but not readable (mode 0711): execve can still run a binary; it cannot be a shim we could read.
    return { kind: 'ok', resolved: { path, viaShell: false, lastChange: Math.max(st.mtimeMs, st.ctimeMs) } };
  }
  if (head.subarray(0, SHIM_MARKER_WINDOW).includes(SHIM_MARKER)) return { kind: 'shim' };
  if (skip.size > 0) {
    try {
      if (skip.has(realpathSync.native(path))) return { kind: 'shim' };
    } catch {
      /* a vanished file is judged by execve */
    }
  }
  const verdict = judgeExecutable(path, head, cwd);
  if (verdict.kind === 'refused') return { kind: 'not-executable', why: verdict.why, found: true };
  const lastChange = Math.max(st.mtimeMs, st.ctimeMs, verdict.interpretersChanged);
  return { kind: 'ok', resolved: { path, viaShell: verdict.kind === 'via-shell', lastChange } };
}

/**
 * Resolves `command` as a shell would: a name with a `/` is taken as a path (relative to `cwd`),
 * anything else is searched on PATH (an empty entry means the current directory). PATH shims —
 * executables carrying the with-secrets shim marker — are skipped, so the real program is found.
 * Throws `command-not-found` (127) or `command-not-executable` (126).
 */
export function resolveExecutable(command: string, opts: ResolveOptions): ResolvedExecutable {
  const skip = new Set(opts.skipRealPaths ?? []);
  if (command === '') throw new WithSecretsError('command-not-found', 'the command is empty');
  if (command.includes('/')) {
    const path = isAbsolute(command) ? command : resolve(opts.cwd, command);
    const found = examine(path, new Set(), opts.cwd);
    if (found.kind === 'ok') return found.resolved;
    if (found.kind === 'absent') throw new WithSecretsError('command-not-found', `${command}: no such file`);
    if (found.kind === 'shim') {
      throw new WithSecretsError('command-not-executable', `${command} is a with-secrets shim; starting it would start with-secrets again`, {
        hint: 'give the real program (or its name, and with-secrets finds it on PATH past the shim)',
      });
    }
    throw new WithSecretsError('command-not-executable', `${command} ${found.why}`);
  }
  let denied: string | undefined;
  let shims = 0;
  for (const dir of (opts.pathEnv ?? '').split(delimiter)) {
    const path = join(dir === '' ? opts.cwd : resolve(opts.cwd, dir), command);
    const found = examine(path, skip, opts.cwd);
    if (found.kind === 'ok') return found.resolved;
    if (found.kind === 'shim') shims++;
    // Like the shells: an executable file is the one they run, even when the kernel then refuses it (never
    // a later match, which would get the secrets instead); one without the x bit is passed over, remembered.
    if (found.kind === 'not-executable' && found.found === true) throw new WithSecretsError('command-not-executable', `${path} ${found.why}`);
    if (found.kind === 'not-executable' && denied === undefined) denied = `${path} ${found.why}`;
  }
  if (denied !== undefined) throw new WithSecretsError('command-not-executable', denied);
  throw new WithSecretsError('command-not-found', `${command}: command not found${shims > 0 ? ' (only with-secrets shims of that name are on PATH)' : ''}`, {
    hint: shims > 0 ? 'install the real program, or set `command:` in the profile to its path' : 'check PATH, or set `command:` in the profile to the program\'s path',
  });
}
