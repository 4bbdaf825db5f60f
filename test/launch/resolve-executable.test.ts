// PATH resolution: shims skipped, 126 vs 127, scripts without a shebang, relative paths.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { judgeExecutable } from '../../src/launch/exec-format.js';
import { isShim, resolveExecutable } from '../../src/launch/resolve-executable.js';

const root = mkdtempSync(join(tmpdir(), 'ws-resolve-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const shims = join(root, 'shims');
const bin = join(root, 'bin');
const other = join(root, 'other');
for (const d of [shims, bin, other]) mkdirSync(d);
function file(path: string, text: string | Buffer, mode = 0o755): string {
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}
file(join(shims, 'tool'), '#!/bin/sh\n# with-secrets-shim\nexec with-secrets tool "$@"\n');
file(join(bin, 'tool'), '#!/bin/sh\necho real\n');
file(join(bin, 'noshebang'), 'echo hi\n');
file(join(bin, 'weird'), Buffer.from([0x01, 0x02, 0x00, 0x03, 0x0a]));
file(join(bin, 'elf'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x00]));
file(join(bin, 'plain'), '#!/bin/sh\n', 0o644);
file(join(other, 'plain'), '#!/bin/sh\n', 0o755);
file(join(shims, 'onlyshim'), '#!/bin/sh\n# with-secrets-shim\n');
file(join(bin, 'self.js'), '#!/usr/bin/env node\n');
symlinkSync(join(bin, 'self.js'), join(shims, 'linked'));
file(join(other, 'linked'), '#!/bin/sh\n');

const opts = (pathEnv: string, skip: string[] = []) => ({ pathEnv, cwd: root, skipRealPaths: skip });

/** binfmt_misc handlers (qemu-user, Rosetta, Wine) make the kernel run foreign formats: then nothing is refused for its format. */
const foreignFormatsRun = (() => {
  try {
    return readdirSync('/proc/sys/fs/binfmt_misc').some((n) => n !== 'status' && n !== 'register');
  } catch {
    return false;
  }
})();

describe('resolveExecutable', () => {
  it('skips a shim named like the target and finds the real program', () => {
    expect(isShim(join(shims, 'tool'))).toBe(true);
    expect(resolveExecutable('tool', opts(`${shims}:${bin}`))).toMatchObject({ path: join(bin, 'tool'), viaShell: false });
  });
  it('skips the with-secrets bin itself (by real path)', () => {
    expect(resolveExecutable('linked', opts(`${shims}:${other}`, [join(bin, 'self.js')])).path).toBe(join(other, 'linked'));
  });
  it('gives 127 when only shims exist, saying so', () => {
    expect(() => resolveExecutable('onlyshim', opts(`${shims}:${bin}`))).toThrow(/command not found \(only with-secrets shims/);
    expect(() => resolveExecutable('nope', opts(`${shims}:${bin}`))).toThrow(expect.objectContaining({ code: 'command-not-found' }));
  });
  it('gives 126 for a match that cannot run, unless a later one can', () => {
    expect(() => resolveExecutable('plain', opts(bin))).toThrow(expect.objectContaining({ code: 'command-not-executable' }));
    expect(resolveExecutable('plain', opts(`${bin}:${other}`)).path).toBe(join(other, 'plain'));
    expect(() => resolveExecutable(bin, opts(bin))).toThrow(/is a directory/);
    expect(() => resolveExecutable('weird', opts(bin))).toThrow(/unknown binary format/);
  });
  it('runs a text file without #! through the shell; refuses an ELF file too short to be one', () => {
    expect(resolveExecutable('noshebang', opts(bin))).toMatchObject({ path: join(bin, 'noshebang'), viaShell: true });
    expect(() => resolveExecutable('elf', opts(bin))).toThrow(/elf cannot be executed \(a truncated or damaged ELF file\)/);
  });
  it('takes names with a slash as paths (relative to cwd), refusing a shim given directly', () => {
    expect(resolveExecutable('bin/tool', opts('')).path).toBe(join(bin, 'tool'));
    expect(() => resolveExecutable('./bin/missing', opts(''))).toThrow(expect.objectContaining({ code: 'command-not-found' }));
    expect(() => resolveExecutable(join(shims, 'tool'), opts(''))).toThrow(/is a with-secrets shim/);
  });
  it('searches the current directory for an empty PATH entry', () => {
    expect(resolveExecutable('tool', { pathEnv: ':', cwd: bin }).path).toBe(join(bin, 'tool'));
  });
  it('refuses a script whose #! interpreter is missing (126), as bash does', () => {
    file(join(bin, 'badinterp'), '#!/nonexistent/python9 -u\nprint(1)\n');
    expect(() => resolveExecutable('badinterp', opts(bin))).toThrow(/bad interpreter: \/nonexistent\/python9 does not exist/);
    file(join(bin, 'interp-script'), '#!/nonexistent/deeper\n');
    file(join(bin, 'chained'), `#!${join(bin, 'interp-script')}\n`);
    expect(() => resolveExecutable('chained', opts(bin))).toThrow(/bad interpreter: \/nonexistent\/deeper does not exist/);
    file(join(bin, 'via-real'), `#!${join(bin, 'tool')}\n`);
    expect(resolveExecutable('via-real', opts(bin)).viaShell).toBe(false);
    file(join(bin, 'emptybang'), '#!\necho hi\n');
    expect(resolveExecutable('emptybang', opts(bin)).viaShell).toBe(true);
  });
  it('refuses an ELF binary whose dynamic loader is missing (execve would abort)', () => {
    const real = readFileSync('/bin/true');
    const loader = Buffer.from('/lib64/ld-linux-x86-64.so.2');
    const at = real.indexOf(loader);
    if (at < 0) return; // another architecture: nothing to patch
    const patched = Buffer.from(real);
    Buffer.from('/lib64/ld-missing-x86-64.so.2'.slice(0, loader.length)).copy(patched, at);
    file(join(bin, 'noloader'), patched);
    expect(() => resolveExecutable('noloader', opts(bin))).toThrow(/bad interpreter: \/lib64\/ld-missing/);
    file(join(bin, 'realtrue'), real);
    expect(resolveExecutable('realtrue', opts(bin)).viaShell).toBe(false);
  });
  it('finds the loader when the program headers and its name lie past the first bytes it reads', () => {
    const real = readFileSync('/bin/true');
    if (real.readUInt32BE(0) !== 0x7f454c46 || real[4] !== 2 || real[5] !== 1) return; // only 64-bit little-endian ELF is rebuilt here
    const phoff = Number(real.readBigUInt64LE(32));
    const phentsize = real.readUInt16LE(54);
    const phnum = real.readUInt16LE(56);
    // A copy of the program header table at the end of the file, its PT_INTERP pointing at a new name there too.
    const table = Buffer.from(real.subarray(phoff, phoff + phentsize * phnum));
    const name = Buffer.from('/nonexistent/ld-far.so\0');
    const tableAt = real.length + 4096;
    const nameAt = tableAt + table.length;
    for (let i = 0; i < phnum; i++) {
      if (table.readUInt32LE(i * phentsize) !== 3) continue;
      table.writeBigUInt64LE(BigInt(nameAt), i * phentsize + 8);
      table.writeBigUInt64LE(BigInt(name.length), i * phentsize + 32);
    }
    const far = Buffer.concat([real, Buffer.alloc(4096), table, name]);
    far.writeBigUInt64LE(BigInt(tableAt), 32);
    file(join(bin, 'farheaders'), far);
    expect(() => resolveExecutable('farheaders', opts(bin))).toThrow(/bad interpreter: \/nonexistent\/ld-far\.so does not exist/);
  });
  it('reads a #! line as the kernel does: a CRLF line names "/bin/sh\\r", which does not exist (126, with the fix)', () => {
    file(join(bin, 'crlf'), '#!/bin/sh\r\necho hi\r\n');
    expect(() => resolveExecutable('crlf', opts(bin))).toThrow(/crlf has a bad interpreter: \/bin\/sh\\r does not exist \(the #! line ends in a carriage return: the file has Windows line endings; convert it with dos2unix\)/);
    // Spaces and tabs around the name are not part of it; a CR in an argument is the interpreter's business.
    file(join(bin, 'spaced'), '#! \t/bin/sh  -e \r\n');
    expect(resolveExecutable('spaced', opts(bin)).viaShell).toBe(false);
    // A name cut off at the kernel's 256 bytes: execve says ENOEXEC, and shells run the file with sh.
    file(join(bin, 'longbang'), `#!/${'x'.repeat(300)}`);
    expect(resolveExecutable('longbang', opts(bin)).viaShell).toBe(true);
  });

  it('finds a relative #! interpreter from the current directory, as the kernel does', () => {
    file(join(bin, 'relbad'), '#!nosuch/interp\n');
    expect(() => resolveExecutable('relbad', opts(bin))).toThrow(/relbad has a bad interpreter: nosuch\/interp does not exist/);
    file(join(bin, 'relgood'), '#!bin/tool\n');
    expect(resolveExecutable('relgood', opts(bin)).viaShell).toBe(false);
    expect(() => resolveExecutable('relgood', { pathEnv: bin, cwd: other })).toThrow(/bad interpreter: bin\/tool does not exist/);
  });

  it('refuses binaries the kernel cannot run here: another machine\'s ELF, a macOS binary (126)', (ctx) => {
    if (process.platform !== 'linux') ctx.skip();
    if (foreignFormatsRun) {
      console.log('skipped: binfmt_misc handlers are registered on this machine, so the kernel may run foreign binaries');
      ctx.skip();
    }
    const real = readFileSync('/bin/true');
    const foreign = Buffer.from(real);
    const le = foreign[5] === 1;
    const other = process.arch === 'arm64' ? 62 : 183; // x86-64 on ARM, AArch64 elsewhere
    if (le) foreign.writeUInt16LE(other, 18);
    else foreign.writeUInt16BE(other, 18);
    file(join(bin, 'foreign'), foreign);
    expect(() => resolveExecutable('foreign', opts(bin))).toThrow(
      new RegExp(`foreign cannot be executed: it is a program for another machine \\(${other === 62 ? 'x86-64' : 'AArch64'}; this is ${process.arch}\\)`),
    );
    file(join(bin, 'macho'), Buffer.concat([Buffer.from([0xca, 0xfe, 0xba, 0xbe]), Buffer.alloc(60)]));
    expect(() => resolveExecutable('macho', opts(bin))).toThrow(/macho is a macOS \(Mach-O\) binary, which this system cannot run/);
    expect(() => resolveExecutable('macho', opts(bin))).toThrow(expect.objectContaining({ code: 'command-not-executable' }));
  });
  it('says when the program or any interpreter on its way last changed (a fresh one may still be open for writing)', () => {
    const interp = file(join(bin, 'fresh-interp'), '#!/bin/sh\nexec "$@"\n');
    const script = file(join(bin, 'uses-fresh'), `#!${interp}\n`);
    expect(resolveExecutable('uses-fresh', opts(bin)).lastChange).toBeGreaterThanOrEqual(statSync(script).ctimeMs);
    // The interpreters' own times, apart from the file's (whose ctime cannot be set back).
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(interp, past, past);
    const judged = judgeExecutable(script, readFileSync(script), root);
    expect(judged.kind).toBe('runs');
    // The script's interpreter, its /bin/sh and /bin/sh's loader: the latest of their times.
    expect(judged.interpretersChanged).toBeGreaterThanOrEqual(Math.max(statSync(interp).ctimeMs, statSync('/bin/sh').mtimeMs, statSync('/bin/sh').ctimeMs));
  });
  it('follows up to 5 #! scripts running one another, as Linux does, and refuses a sixth', () => {
    let prev = '/bin/sh';
    for (let i = 0; i <= 5; i++) prev = file(join(bin, `chain${i}`), `#!${prev}\nexit 0\n`);
    expect(resolveExecutable('chain4', opts(bin)).viaShell).toBe(false);
    expect(() => resolveExecutable('chain5', opts(bin))).toThrow(/more than 5 #! scripts run one another/);
  });

  it('reads a #! line that ends the file without a newline as complete (the kernel zero-fills its buffer)', () => {
    file(join(bin, 'nonl'), '#!/bin/false');
    expect(resolveExecutable('nonl', opts(bin)).viaShell).toBe(false);
  });

  it('stops at the first executable match on PATH even when the kernel would refuse it, as the shells do', () => {
    const pa = join(root, 'pa');
    const pb = join(root, 'pb');
    mkdirSync(pa);
    mkdirSync(pb);
    file(join(pa, 'tool'), '#!/bin/sh\r\necho a\r\n');
    file(join(pb, 'tool'), '#!/bin/sh\necho b\n');
    // Not the later match: that one would get the secrets the user meant for this one.
    expect(() => resolveExecutable('tool', opts(`${pa}:${pb}`))).toThrow(new RegExp(`${join(pa, 'tool')} has a bad interpreter`));
  });

  it('refuses ELF files that are no program for this machine: an object file, a class that does not fit the machine', (ctx) => {
    const real = readFileSync('/bin/true');
    if (process.platform !== 'linux' || process.arch !== 'x64' || real[4] !== 2 || real[5] !== 1) ctx.skip();
    const object = Buffer.from(real);
    object.writeUInt16LE(1, 16); // ET_REL
    file(join(bin, 'object.o'), object);
    expect(() => resolveExecutable('object.o', opts(bin))).toThrow(/an ELF object file, not a program/);
    const mixed = Buffer.from(real);
    mixed.writeUInt16LE(3, 18); // EM_386 in a 64-bit file
    file(join(bin, 'mixed'), mixed);
    if (!foreignFormatsRun) expect(() => resolveExecutable('mixed', opts(bin))).toThrow(/its 32\/64-bit class does not fit its machine/);
  });
});
