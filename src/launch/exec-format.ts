// What the kernel will do with a file it is asked to execute, judged from its first bytes as Linux judges them:
// `#!` scripts (binfmt_script), ELF for this machine (binfmt_elf), binfmt_misc handlers; else refused, or run by /bin/sh.
import { accessSync, closeSync, constants, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { errnoCode } from '../errors.js';

/**
 * How much of a file is read to judge it: the shim marker window, the `#!` line the kernel reads
 * (256 bytes), and for a typical ELF executable its program headers and loader name too
 * (/bin/true's end at byte 820), so one read serves all.
 */
export const EXEC_HEAD_BYTES = 1024;

/** The kernel reads this much of a `#!` line (BINPRM_BUF_SIZE, Linux ≥ 5.1). */
const SHEBANG_BYTES = 256;
/** How many `#!` scripts Linux follows in one exec before ELOOP (a script, its interpreter script, …). */
const MAX_SCRIPT_DEPTH = 5;

/** Reads up to `n` leading bytes of a file. */
export function readHead(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** What executing a file does: it runs; the kernel refuses it and shells run it with /bin/sh (ENOEXEC); or it cannot run. */
export type ExecVerdict = { readonly kind: 'runs' } | { readonly kind: 'via-shell' } | { readonly kind: 'refused'; readonly why: string };

const RUNS: ExecVerdict = { kind: 'runs' };
const VIA_SHELL: ExecVerdict = { kind: 'via-shell' };

/** What a judgement saw besides the verdict: when the interpreters it checked last changed (ms since the epoch, 0 for none). */
interface Seen {
  lastChange: number;
}

const isSpaceTab = (b: number | undefined): boolean => b === 0x20 || b === 0x09;

/**
 * The interpreter a `#!` line names, read as Linux reads it (fs/binfmt_script.c): the line ends at
 * the first newline within 256 bytes, the name runs to the first space, tab or NUL, and nothing else
 * is trimmed, so a CRLF line names `/bin/sh\r`. Undefined when the kernel finds no usable name
 * (an empty line, or a name cut off at 256 bytes): execve then fails with ENOEXEC.
 */
export function shebangInterpreter(head: Buffer): string | undefined {
  const buf = head.subarray(0, SHEBANG_BYTES);
  let end = buf.indexOf(0x0a);
  if (end === -1) {
    // No newline. A file shorter than the kernel's buffer ends the line (the rest of the buffer is zeros);
    // a longer one must end the name with a space, tab or NUL within it, else the name may be cut off.
    let p = 2;
    while (p < buf.length && isSpaceTab(buf[p])) p++;
    let q = p;
    while (q < buf.length && !isSpaceTab(buf[q]) && buf[q] !== 0) q++;
    const fileEnded = head.length < SHEBANG_BYTES;
    if (p === buf.length || (q === buf.length && !fileEnded)) return undefined;
    end = buf.length;
  }
  while (end > 2 && isSpaceTab(buf[end - 1])) end--;
  let start = 2;
  while (start < end && isSpaceTab(buf[start])) start++;
  let stop = start;
  while (stop < end && !isSpaceTab(buf[stop]) && buf[stop] !== 0) stop++;
  return stop === start ? undefined : buf.subarray(start, stop).toString('utf8');
}

/** ELF e_machine values this machine's kernel runs natively or through its 32-bit compat layer; undefined: not known here. */
function nativeMachines(arch: string): readonly number[] | undefined {
  switch (arch) {
    case 'x64':
      return [62, 3]; // EM_X86_64, EM_386
    case 'ia32':
      return [3];
    case 'arm64':
      return [183, 40]; // EM_AARCH64, EM_ARM
    case 'arm':
      return [40];
    case 'ppc64':
      return [21];
    case 'ppc':
      return [20];
    case 's390x':
    case 's390':
      return [22];
    case 'riscv64':
      return [243];
    case 'loong64':
      return [258];
    case 'mips':
    case 'mipsel':
    case 'mips64el':
      return [8];
    default:
      return undefined;
  }
}

/** Names for the e_machine values people meet, for the message. */
const MACHINE_NAMES: Readonly<Record<number, string>> = { 3: 'x86', 8: 'MIPS', 20: 'PowerPC', 21: 'PowerPC 64', 22: 'S/390', 40: 'ARM', 62: 'x86-64', 183: 'AArch64', 243: 'RISC-V', 258: 'LoongArch' };

/**
 * True when a binfmt_misc handler claims the file (its magic bytes at its offset, under its mask,
 * or its file name extension), as for qemu-user, Rosetta or Wine: the kernel then runs it whatever
 * its format. Read only for a file the kernel would otherwise refuse.
 */
function binfmtMiscClaims(path: string, head: Buffer): boolean {
  const dir = '/proc/sys/fs/binfmt_misc';
  let names: string[];
  try {
    if (readFileSync(`${dir}/status`, 'utf8').trim() !== 'enabled') return false;
    names = readdirSync(dir);
  } catch {
    return false;
  }
  for (const name of names) {
    if (name === 'status' || name === 'register') continue;
    let lines: string[];
    try {
      lines = readFileSync(`${dir}/${name}`, 'utf8').split('\n');
    } catch {
      continue;
    }
    if (lines[0] !== 'enabled') continue;
    const field = (key: string): string | undefined => lines.find((l) => l.startsWith(`${key} `))?.slice(key.length + 1);
    const extension = field('extension');
    if (extension !== undefined) {
      const dot = path.lastIndexOf('.');
      if (dot !== -1 && path.slice(dot) === extension) return true;
      continue;
    }
    const magic = Buffer.from(field('magic') ?? '', 'hex');
    const mask = Buffer.from(field('mask') ?? '', 'hex');
    const offset = Number(field('offset') ?? '0');
    if (magic.length === 0 || !(offset >= 0) || offset + magic.length > head.length) continue;
    let match = true;
    for (let i = 0; i < magic.length && match; i++) match = ((head[offset + i]! ^ magic[i]!) & (mask.length > i ? mask[i]! : 0xff)) === 0;
    if (match) return true;
  }
  return false;
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

/** Shows a path as it is, with control characters (a CR from a Windows line end) made visible. */
const visible = (s: string): string => s.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));

/**
 * Why the interpreter `name` (from a `#!` line or an ELF loader) cannot run, or undefined when it
 * can. A relative name is found from `cwd`, as the kernel finds it. Each level is checked, since a
 * failing `process.execve` aborts instead of returning an error.
 */
function interpreterProblem(name: string, cwd: string, scripts: number, seen: Seen): string | undefined {
  const shown = visible(name);
  const crlf = name.endsWith('\r') ? ' (the #! line ends in a carriage return: the file has Windows line endings; convert it with dos2unix)' : '';
  const path = isAbsolute(name) ? name : resolve(cwd, name);
  try {
    const st = statSync(path);
    if (!st.isFile()) return `has a bad interpreter: ${shown} is not a regular file`;
    accessSync(path, constants.X_OK);
    seen.lastChange = Math.max(seen.lastChange, st.mtimeMs, st.ctimeMs);
  } catch (e) {
    const code = errnoCode(e);
    return `has a bad interpreter: ${shown} ${code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : 'cannot be executed'}${crlf}`;
  }
  let head: Buffer;
  try {
    head = readHead(path, EXEC_HEAD_BYTES);
  } catch {
    return undefined; // executable but unreadable: only the kernel can tell
  }
  const verdict = judge(path, head, cwd, scripts, seen);
  if (verdict.kind === 'runs') return undefined;
  // An interpreter the kernel refuses fails the whole exec; no shell takes over at this level.
  return verdict.kind === 'refused' && verdict.why.startsWith('has a bad interpreter') ? verdict.why : `has a bad interpreter: ${shown} is not a program the system can run`;
}

/** `scripts`: how many `#!` scripts led here (the file itself not counted). */
function judge(path: string, head: Buffer, cwd: string, scripts: number, seen: Seen): ExecVerdict {
  if (head[0] === 0x23 && head[1] === 0x21) {
    const interpreter = shebangInterpreter(head);
    // A `#!` line without a usable name: the kernel says ENOEXEC and the shells run the file with sh.
    if (interpreter === undefined) return VIA_SHELL;
    if (scripts + 1 > MAX_SCRIPT_DEPTH) return { kind: 'refused', why: `has a bad interpreter: more than ${MAX_SCRIPT_DEPTH} #! scripts run one another here` };
    const problem = interpreterProblem(interpreter, cwd, scripts + 1, seen);
    return problem === undefined ? RUNS : { kind: 'refused', why: problem };
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46) return judgeElf(path, head, cwd, scripts, seen);
  const magic = head.length >= 4 ? head.readUInt32BE(0) : 0;
  const machO = magic === 0xfeedface || magic === 0xfeedfacf || magic === 0xcefaedfe || magic === 0xcffaedfe || magic === 0xcafebabe;
  if (machO && process.platform === 'darwin') return RUNS;
  if (process.platform === 'linux' && binfmtMiscClaims(path, head)) return RUNS;
  if (machO) return { kind: 'refused', why: 'is a macOS (Mach-O) binary, which this system cannot run' };
  // As bash and dash do on ENOEXEC: a file with a NUL before its first newline is a binary in an
  // unknown format; anything else is a shell script without a shebang.
  const sample = head.subarray(0, 512);
  const newline = sample.indexOf(0x0a);
  const firstLine = newline === -1 ? sample : sample.subarray(0, newline);
  return head.length === 0 || !firstLine.includes(0) ? VIA_SHELL : { kind: 'refused', why: 'cannot be executed (unknown binary format)' };
}

/** The ELF class (1: 32-bit, 2: 64-bit) each machine's programs have; others may be either. */
const MACHINE_CLASS: Readonly<Record<number, number>> = { 3: 1, 40: 1, 20: 1, 62: 2, 183: 2, 21: 2, 243: 2, 258: 2 };

function judgeElf(path: string, head: Buffer, cwd: string, scripts: number, seen: Seen): ExecVerdict {
  if (process.platform !== 'linux') return RUNS;
  const is64 = head[4] === 2;
  if (head.length < (is64 ? 64 : 52) || (head[5] !== 1 && head[5] !== 2)) {
    return binfmtMiscClaims(path, head) ? RUNS : { kind: 'refused', why: 'cannot be executed (a truncated or damaged ELF file)' };
  }
  const u16 = (at: number): number => (head[5] === 1 ? head.readUInt16LE(at) : head.readUInt16BE(at));
  // Only executables and position-independent ones (ET_EXEC, ET_DYN) run; an object file or a core dump does not.
  const type = u16(16);
  if (type !== 2 && type !== 3) return { kind: 'refused', why: `cannot be executed (an ELF ${type === 1 ? 'object file' : type === 4 ? 'core dump' : 'file'}, not a program)` };
  const machine = u16(18);
  const native = nativeMachines(process.arch);
  const wrongClass = MACHINE_CLASS[machine] !== undefined && MACHINE_CLASS[machine] !== head[4];
  if (wrongClass || (native !== undefined && !native.includes(machine))) {
    // binfmt_misc handlers come before the ELF loader (qemu-user, Rosetta): they run foreign ELF files.
    if (binfmtMiscClaims(path, head)) return RUNS;
    if (wrongClass) return { kind: 'refused', why: 'cannot be executed (a damaged ELF file: its 32/64-bit class does not fit its machine)' };
    const name = MACHINE_NAMES[machine] ?? `machine type ${machine}`;
    return { kind: 'refused', why: `cannot be executed: it is a program for another machine (${name}; this is ${process.arch})` };
  }
  const loader = elfInterpreter(path, head);
  const problem = loader === undefined ? undefined : interpreterProblem(loader, cwd, scripts, seen);
  return problem === undefined ? RUNS : { kind: 'refused', why: problem };
}

/**
 * What execve will do with the file at `path`, whose first bytes are `head` (see {@link EXEC_HEAD_BYTES}),
 * started from `cwd`. `refused` comes with the reason, worded to follow the file's name. `interpretersChanged`
 * is when the interpreters and loaders on the way last changed (ms since the epoch; 0 when there are none).
 */
export function judgeExecutable(path: string, head: Buffer, cwd: string): ExecVerdict & { readonly interpretersChanged: number } {
  const seen: Seen = { lastChange: 0 };
  const verdict = judge(path, head, cwd, 0, seen);
  return { ...verdict, interpretersChanged: seen.lastChange };
}
