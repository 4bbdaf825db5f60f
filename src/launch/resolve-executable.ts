// Finds the program to start: a PATH search that skips with-secrets shims (so a shim never loops) and checks what execve will accept.
import { accessSync, closeSync, constants, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { errnoCode, WithSecretsError } from '../errors.js';
import { SHIM_MARKER, SHIM_MARKER_WINDOW } from './shim-marker.js';

/** The shell that runs a script without a `#!` line, as POSIX shells do on ENOEXEC. */
export const FALLBACK_SHELL = '/bin/sh';

/** What to execute: the file itself, or `/bin/sh FILE` for a script without a shebang. */
export interface ResolvedExecutable {
  /** The executable that was found (absolute). */
  readonly path: string;
  /** True when it is a text file without `#!`: run it as `/bin/sh path args…`. */
  readonly viaShell: boolean;
}

/** Inputs of {@link resolveExecutable}. */
export interface ResolveOptions {
  /** The PATH to search (the parent's). */
  readonly pathEnv: string | undefined;
  readonly cwd: string;
  /** Real paths to skip as well as marked shims (the with-secrets bin itself). */
  readonly skipRealPaths?: readonly string[];
}

type Candidate = { kind: 'ok'; resolved: ResolvedExecutable } | { kind: 'shim' } | { kind: 'not-executable'; why: string } | { kind: 'absent' };

/** Reads up to `n` leading bytes of a file. */
/**
 * How much of a file examine reads: the shim marker window, and for a typical ELF executable its
 * program headers and interpreter name too (/bin/true's end at byte 820), so one read serves all.
 */
const ELF_HEAD_BYTES = 1024;

function readHead(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** True when the executable at `path` is a with-secrets PATH shim (its first bytes carry the marker). */
export function isShim(path: string): boolean {
  try {
    return readHead(path, SHIM_MARKER_WINDOW).includes(SHIM_MARKER);
  } catch {
    return false;
  }
}

/** The interpreter named by a `#!` line (as the kernel reads it: the first word after `#!`), or ''. */
function shebangInterpreter(head: Buffer): string {
  const newline = head.indexOf(0x0a);
  const line = head.subarray(2, newline === -1 ? Math.min(head.length, 256) : newline).toString('utf8');
  return line.trim().split(/[ \t]/)[0] ?? '';
}

/**
 * The program interpreter (dynamic loader) of an ELF executable, from its PT_INTERP header, or
 * undefined for a static binary or one this cannot read. A missing loader makes execve fail with
 * ENOENT, which `process.execve` turns into an abort.
 */
function elfInterpreter(path: string, head: Buffer): string | undefined {
  let fd: number | undefined;
  // The headers usually lie within `head` (the file's first bytes, already read); past it, one read each.
  const bytes = (offset: number, size: number): Buffer | undefined => {
    if (offset + size <= head.length) return head.subarray(offset, offset + size);
    fd ??= openSync(path, 'r');
    const b = Buffer.alloc(size);
    return readSync(fd, b, 0, size, offset) < size ? undefined : b;
  };
  try {
    const eh = bytes(0, 52);
    if (eh === undefined) return undefined;
    const is64 = eh[4] === 2;
    const le = eh[5] === 1;
    const ehFull = is64 ? bytes(0, 64) : eh;
    if (ehFull === undefined) return undefined;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const word = (b: Buffer, o: number) => (is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o));
    const phoff = word(ehFull, is64 ? 32 : 28);
    const phentsize = u16(ehFull, is64 ? 54 : 42);
    const phnum = Math.min(u16(ehFull, is64 ? 56 : 44), 256);
    if (phentsize < (is64 ? 56 : 32)) return undefined;
    const table = bytes(phoff, phnum * phentsize);
    if (table === undefined) return undefined;
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      if (u32(table, at) !== 3) continue; // PT_INTERP
      const offset = word(table, at + (is64 ? 8 : 4));
      const size = Math.min(word(table, at + (is64 ? 32 : 16)), 4096);
      const name = bytes(offset, size);
      if (name === undefined) return undefined;
      const end = name.indexOf(0);
      return name.subarray(0, end === -1 ? size : end).toString('utf8');
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Why `interpreter` cannot run, or undefined when it can. An interpreter may itself be a script
 * or a dynamically linked binary (Linux follows up to 4 levels): each level is checked, because a
 * failing `process.execve` aborts instead of returning an error.
 */
function checkInterpreter(interpreter: string, depth = 0): string | undefined {
  // The kernel resolves a relative interpreter against the cwd at exec time; rare enough to leave to execve.
  if (!isAbsolute(interpreter)) return undefined;
  if (depth > 4) return `has a bad interpreter: ${interpreter} (interpreters nested too deep)`;
  try {
    const st = statSync(interpreter);
    if (!st.isFile()) return `has a bad interpreter: ${interpreter} is not a regular file`;
    accessSync(interpreter, constants.X_OK);
  } catch (e) {
    const code = errnoCode(e);
    return `has a bad interpreter: ${interpreter} ${code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : 'cannot be executed'}`;
  }
  let head: Buffer;
  try {
    head = readHead(interpreter, ELF_HEAD_BYTES);
  } catch {
    return undefined; // executable but unreadable: only the kernel can tell
  }
  if (head.subarray(0, 2).toString('latin1') === '#!') {
    const next = shebangInterpreter(head);
    return next === '' ? `has a bad interpreter: ${interpreter} (an empty #! line)` : checkInterpreter(next, depth + 1);
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46) {
    const loader = elfInterpreter(interpreter, head);
    return loader === undefined ? undefined : checkInterpreter(loader, depth + 1);
  }
  return isKnownBinary(head) ? undefined : `has a bad interpreter: ${interpreter} is not a program the system can run`;
}

/** Binary formats the kernel runs itself (ELF; Mach-O and fat binaries on macOS). */
function isKnownBinary(head: Buffer): boolean {
  if (head.length < 4) return false;
  const magic = head.readUInt32BE(0);
  return magic === 0x7f454c46 || magic === 0xfeedface || magic === 0xfeedfacf || magic === 0xcefaedfe || magic === 0xcffaedfe || magic === 0xcafebabe;
}

function examine(path: string, skip: ReadonlySet<string>): Candidate {
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
    head = readHead(path, ELF_HEAD_BYTES);
  } catch {
    // Executable but not readable (mode 0711): execve can still run a binary; it cannot be a shim we could read.
    return { kind: 'ok', resolved: { path, viaShell: false } };
  }
  if (head.subarray(0, SHIM_MARKER_WINDOW).includes(SHIM_MARKER)) return { kind: 'shim' };
  if (skip.size > 0) {
    try {
      if (skip.has(realpathSync.native(path))) return { kind: 'shim' };
    } catch {
      /* a vanished file is judged by execve */
    }
  }
  if (head.subarray(0, 2).toString('latin1') === '#!') {
    const interpreter = shebangInterpreter(head);
    // `#!` with nothing after it: the kernel says ENOEXEC and the shells run the file with sh.
    if (interpreter === '') return { kind: 'ok', resolved: { path, viaShell: true } };
    const bad = checkInterpreter(interpreter);
    return bad === undefined ? { kind: 'ok', resolved: { path, viaShell: false } } : { kind: 'not-executable', why: bad };
  }
  if (isKnownBinary(head)) {
    const interpreter = head.readUInt32BE(0) === 0x7f454c46 ? elfInterpreter(path, head) : undefined;
    const bad = interpreter === undefined ? undefined : checkInterpreter(interpreter);
    return bad === undefined ? { kind: 'ok', resolved: { path, viaShell: false } } : { kind: 'not-executable', why: bad };
  }
  // As bash and dash do on ENOEXEC: a file with a NUL before its first newline is a binary in an
  // unknown format; anything else is a shell script without a shebang.
  const sample = head.subarray(0, SHIM_MARKER_WINDOW);
  const newline = sample.indexOf(0x0a);
  const firstLine = newline === -1 ? sample : sample.subarray(0, newline);
  if (head.length === 0 || !firstLine.includes(0)) return { kind: 'ok', resolved: { path, viaShell: true } };
  return { kind: 'not-executable', why: 'cannot be executed (unknown binary format)' };
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
    const found = examine(path, new Set());
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
    const found = examine(path, skip);
    if (found.kind === 'ok') return found.resolved;
    if (found.kind === 'shim') shims++;
    // Like the shells: remember a match that cannot run, but keep looking for one that can.
    if (found.kind === 'not-executable' && denied === undefined) denied = `${path} ${found.why}`;
  }
  if (denied !== undefined) throw new WithSecretsError('command-not-executable', denied);
  throw new WithSecretsError('command-not-found', `${command}: command not found${shims > 0 ? ' (only with-secrets shims of that name are on PATH)' : ''}`, {
    hint: shims > 0 ? 'install the real program, or set `command:` in the profile to its path' : 'check PATH, or set `command:` in the profile to the program\'s path',
  });
}
