// `secret edit` end to end with scripted editors: plaintext only in a 0600 file in a 0700 dir under $XDG_RUNTIME_DIR,
// removed on every exit (normal, error, SIGTERM, SIGHUP); SIGINT belongs to the editor.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, NODE, runCli, type CliResult } from '../helpers/built-cli.js';
import { runInPty } from '../helpers/pty.js';

const CANARY = 'canary-edit-77a0c3';

let home: string;
let runtime: string;
let env: Record<string, string>;
let secrets: string;
const outputs: CliResult[] = [];

async function ws(args: string[], extra: Record<string, string> = {}, input?: string): Promise<CliResult> {
  const r = await runCli(args, { env: { ...env, ...extra }, cwd: home, ...(input === undefined ? {} : { input }) });
  outputs.push(r);
  return r;
}

/** Writes an executable editor script; `body` gets the file as $1. */
function editor(name: string, body: string): string {
  const p = join(home, name);
  writeFileSync(p, `#!/bin/sh\nf="$1"\necho "argc=$# mode=$(stat -c %a "$f") dirmode=$(stat -c %a "$(dirname "$f")") dir=$(dirname "$f")" > ${join(home, `${name}.log`)}\n${body}\n`, { mode: 0o755 });
  return p;
}

/** Makes a folder under home whose .sops.yaml encrypts files matching `pathRegex` to the user's own age key. */
function dirWithRule(name: string, pathRegex: string): string {
  const dir = join(home, name);
  mkdirSync(dir);
  const recipient = /# public key: (age1\S+)/.exec(readFileSync(join(home, '.config', 'sops', 'age', 'keys.txt'), 'utf8'))![1]!;
  writeFileSync(join(dir, '.sops.yaml'), `creation_rules:\n  - path_regex: ${pathRegex}\n    age: ${recipient}\n`);
  return dir;
}

async function valueOf(name: string): Promise<CliResult> {
  return runCli(['decrypt', '--extract', name, secrets], { env, cwd: home });
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'ws-edit-'));
  runtime = mkdtempSync(join(tmpdir(), 'ws-edit-runtime-'));
  chmodSync(runtime, 0o700);
  env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, XDG_RUNTIME_DIR: runtime };
  expect((await ws(['init'])).code).toBe(0);
  secrets = join(home, '.config', 'with-secrets', 'secrets.yaml');
  expect((await ws(['secret', 'set', 'openai.api_key'], {}, 'sk-start')).code).toBe(0);
});
afterAll(() => {
  for (const r of outputs) expect(r.stdout + r.stderr).not.toContain(CANARY);
  rmSync(home, { recursive: true, force: true });
  rmSync(runtime, { recursive: true, force: true });
});

describe('secret edit', () => {
  it('refuses without $XDG_RUNTIME_DIR, saying why', async () => {
    const before = readFileSync(secrets);
    const r = await ws(['secret', 'edit'], { XDG_RUNTIME_DIR: '', EDITOR: editor('never.sh', 'exit 1') });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('XDG_RUNTIME_DIR is not set');
    expect(r.stderr).toContain('memory-backed');
    expect(existsSync(join(home, 'never.sh.log'))).toBe(false);
    expect(readFileSync(secrets).equals(before)).toBe(true);
  });

  it('refuses a runtime dir others can enter', async () => {
    const open = mkdtempSync(join(tmpdir(), 'ws-open-runtime-'));
    chmodSync(open, 0o755);
    const r = await ws(['secret', 'edit'], { XDG_RUNTIME_DIR: open, EDITOR: editor('never2.sh', 'exit 1') });
    expect(r.code).toBe(9);
    expect(r.stderr).toContain('open to other users');
    rmSync(open, { recursive: true });
  });

  it('saves what the editor wrote; the plaintext was 0600 in a 0700 dir under $XDG_RUNTIME_DIR and is gone', async () => {
    const ed = editor('add.sh', `sed -i 's/sk-start/sk-edited/' "$f"\nprintf 'edited: ${CANARY}\\n' >> "$f"`);
    const r = await ws(['secret', 'edit'], { EDITOR: ed });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('updated');
    const log = readFileSync(join(home, 'add.sh.log'), 'utf8');
    expect(log).toMatch(/^argc=1 mode=600 dirmode=700 dir=/);
    expect(log).toContain(runtime);
    expect(readdirSync(runtime)).toEqual([]);
    expect((await valueOf('openai.api_key')).stdout).toBe('sk-edited');
    expect((await valueOf('edited')).stdout).toBe(CANARY);
    expect(readFileSync(secrets, 'utf8')).not.toContain(CANARY);
  });

  it('an unchanged edit leaves the file byte-identical', async () => {
    const before = readFileSync(secrets);
    const r = await ws(['secret', 'edit'], { EDITOR: editor('noop.sh', 'exit 0') });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('unchanged');
    expect(readFileSync(secrets).equals(before)).toBe(true);
    expect(readdirSync(runtime)).toEqual([]);
  });

  it('invalid YAML (no terminal to return to the editor): exit 6, file unchanged, plaintext gone', async () => {
    const before = readFileSync(secrets);
    const r = await ws(['secret', 'edit'], { EDITOR: editor('break.sh', `printf 'a: [unclosed\\n' >> "$f"`) });
    expect(r.code).toBe(6);
    expect(readFileSync(secrets).equals(before)).toBe(true);
    expect(readdirSync(runtime)).toEqual([]);
  });

  it('a number sops cannot store (an unsigned 64-bit one): exit 6 naming where, not the value; file unchanged and still readable', async () => {
    const before = readFileSync(secrets);
    const r = await ws(['secret', 'edit'], { EDITOR: editor('bigint.sh', `printf 'big: 18446744073709551615\\n' >> "$f"`) });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('the number at big is beyond a 64-bit signed integer, which sops cannot store as a number');
    expect(r.stderr).toContain('hint: quote it in the file to keep it as a string');
    expect(r.stderr).not.toContain('18446744073709551615');
    expect(readFileSync(secrets).equals(before)).toBe(true);
    expect((await valueOf('openai.api_key')).code).toBe(0);
  });

  it('a binary file is edited as its bytes: content that is not UTF-8 is saved exactly', async () => {
    const dir = dirWithRule('bin-edit', '\\.bin$');
    const f = join(dir, 'blob.bin');
    expect((await ws(['secret', 'set', 'data', '-f', f], {}, 'hello\n')).code).toBe(0);
    const r = await ws(['secret', 'edit', '-f', f], { EDITOR: editor('bytes.sh', `printf '\\377\\376\\000\\001binary\\n' > "$f"`) });
    expect(r.code, r.stderr).toBe(0);
    const out = spawnSync(NODE, [CLI, 'decrypt', f], { env, cwd: home });
    expect(out.status).toBe(0);
    expect(Buffer.from(out.stdout).equals(Buffer.from([0xff, 0xfe, 0x00, 0x01, ...Buffer.from('binary\n')]))).toBe(true);
    // Opening it again and changing nothing leaves it as it is.
    const before = readFileSync(f);
    expect((await ws(['secret', 'edit', '-f', f], { EDITOR: editor('same.sh', 'exit 0') })).code).toBe(0);
    expect(readFileSync(f).equals(before)).toBe(true);
  });

  it('a dotenv edit that adds a sops_ key: exit 6 naming the reserved prefix, file unchanged', async () => {
    const dir = dirWithRule('dotenv', '\\.env$');
    const f = join(dir, 'app.env');
    expect((await ws(['secret', 'set', 'TOKEN', '-f', f], {}, 'v')).code).toBe(0);
    const before = readFileSync(f);
    const r = await ws(['secret', 'edit', '-f', f], { EDITOR: editor('sopsnote.sh', `printf 'sops_note=hello\\n' >> "$f"`) });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('(edited copy): keys starting with sops_ are reserved for the file\'s metadata');
    expect(readFileSync(f).equals(before)).toBe(true);
    expect(readdirSync(runtime)).toEqual([]);
  });

  it('a failing editor: nothing saved, plaintext gone', async () => {
    const before = readFileSync(secrets);
    const r = await ws(['secret', 'edit'], { EDITOR: editor('fail.sh', `printf 'x: y\\n' >> "$f"\nexit 3`) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('exited with 3');
    expect(readFileSync(secrets).equals(before)).toBe(true);
    expect(readdirSync(runtime)).toEqual([]);
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s during the edit: exit %i, the editor is told too, file unchanged, plaintext gone', async (sig, code) => {
    const before = readFileSync(secrets);
    const started = join(home, `started-${sig}`);
    const got = join(home, `got-${sig}`);
    const ed = editor(`wait-${sig}.sh`, `printf 'x: ${CANARY}\\n' >> "$f"\ntrap 'echo ${sig} > ${got}; exit 1' TERM HUP\ntouch ${started}\nwhile :; do sleep 0.05; done`);
    const child = spawn(NODE, [CLI, 'secret', 'edit'], { env: { ...env, EDITOR: ed }, cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    for (let i = 0; i < 200 && !existsSync(started); i++) await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(runtime)).toHaveLength(1);
    child.kill(sig);
    expect(await exited).toBe(code);
    expect(readFileSync(got, 'utf8').trim()).toBe(sig);
    expect(out).toContain(`interrupted by ${sig}`);
    expect(out).not.toContain(CANARY);
    expect(readFileSync(secrets).equals(before)).toBe(true);
    expect(readdirSync(runtime)).toEqual([]);
    expect(existsSync(`${secrets}.lock`)).toBe(false);
  });

  it('SIGINT while the editor runs belongs to the editor: the edit goes on and is saved', async () => {
    const started = join(home, 'started-int');
    const go = join(home, 'go-int');
    const ed = editor('int.sh', `touch ${started}\nwhile [ ! -e ${go} ]; do sleep 0.05; done\nprintf 'after_int: yes\\n' >> "$f"`);
    const child = spawn(NODE, [CLI, 'secret', 'edit'], { env: { ...env, EDITOR: ed }, cwd: home, stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    for (let i = 0; i < 200 && !existsSync(started); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 200));
    writeFileSync(go, '');
    expect(await exited).toBe(0);
    expect((await valueOf('after_int')).stdout).toBe('yes');
    expect(readdirSync(runtime)).toEqual([]);
  });

  it('on a terminal, an invalid document sends the user back to the editor (as sops edit), then saves', async () => {
    const count = join(home, 'reedit-count');
    const ed = editor(
      'reedit.sh',
      `n=$(cat ${count} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${count}\n` +
        `if [ $n = 1 ]; then printf 'broken: [\\n' >> "$f"; else sed -i '/^broken/d' "$f"; printf 'fixed: yes\\n' >> "$f"; fi`,
    );
    const r = await runInPty([NODE, CLI, 'secret', 'edit'], [{ expect: 'Press Enter to edit again', send: '\r' }], { ...env, EDITOR: ed, TERM: 'dumb' });
    expect(r.code).toBe(0);
    expect(readFileSync(count, 'utf8').trim()).toBe('2');
    expect((await valueOf('fixed')).stdout).toBe('yes');
    expect(readdirSync(runtime)).toEqual([]);
  });

  it('SIGTERM while waiting at "Press Enter to edit again" ends the edit at once: 143, plaintext gone, file unchanged', async () => {
    const before = readFileSync(secrets);
    const ed = editor('broken-once.sh', `printf 'broken: [\\n' >> "$f"`);
    const started = Date.now();
    const r = await runInPty([NODE, CLI, 'secret', 'edit'], [{ expect: 'Press Enter to edit again', signal: 15 }], { ...env, EDITOR: ed, TERM: 'dumb' }, 20_000);
    expect(r.code).toBe(143);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.output).toContain('interrupted by SIGTERM');
    expect(readFileSync(secrets).equals(before)).toBe(true);
    expect(readdirSync(runtime)).toEqual([]);
  });

  it('without a terminal, an invalid edit says the edits were not saved', async () => {
    const r = await ws(['secret', 'edit'], { EDITOR: editor('broken-plain.sh', `printf 'broken: [\\n' >> "$f"`) });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('; your edits were not saved');
    const missing = await ws(['secret', 'edit'], { EDITOR: '/nonexistent/editor' });
    expect(missing.stderr).toContain('cannot start the editor /nonexistent/editor (not found); nothing was changed');
  });

  it('while an edit holds the lock, another writer waits, then fails with a clear lock-timeout', async () => {
    const started = join(home, 'started-lock');
    const go = join(home, 'go-lock');
    const ed = editor('hold.sh', `touch ${started}\nwhile [ ! -e ${go} ]; do sleep 0.05; done`);
    const child = spawn(NODE, [CLI, 'secret', 'edit'], { env: { ...env, EDITOR: ed }, cwd: home, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    for (let i = 0; i < 200 && !existsSync(started); i++) await new Promise((r) => setTimeout(r, 50));
    const before = readFileSync(secrets);
    const r = await ws(['secret', 'set', 'blocked'], { WITH_SECRETS_LOCK_TIMEOUT: '1' }, 'v');
    expect(r.code).toBe(9);
    expect(r.stderr).toContain(`locked by another with-secrets (pid ${child.pid}`);
    expect(r.stderr).toContain('hint:');
    expect(readFileSync(secrets).equals(before)).toBe(true);
    writeFileSync(go, '');
    expect(await exited, err).toBe(0);
    expect((await ws(['secret', 'set', 'blocked'], {}, 'v')).code).toBe(0);
  });
});
