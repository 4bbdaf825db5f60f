// Leak audit: a canary secret through every command and failure path, checked in output, /proc/*/cmdline, the wrapper's environ, every file written, the parse cache, and SIGUSR1.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, finished, fixture, makeWorld, NODE, type LaunchWorld } from '../e2e/launch-harness.js';
import { ageKeygen } from '../helpers/sops-fixture.js';

const CANARY = 'CANARY-leak-4Zp8Qm2v';
const CANARY_B = 'CANARY-leak-B-7Tx1';
const CANARY_NEW = 'CANARY-leak-new-9Kd3';
/** The canaries, then (once made) the real age secret keys of the run. */
const NEEDLES = [CANARY, CANARY_B, CANARY_NEW];
/** A whole age secret key (the bundle itself holds the bare prefix as a string literal). */
const FULL_KEY = /AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]{50,}/;

let w: LaunchWorld;
let secrets = '';
let runtime = '';
let childOut = '';
let keySecret = '';
const allowedKeyFiles = new Set<string>();

/** Every /proc/PID/cmdline sampled while a run is going; any hit is recorded with the pid. */
const cmdlineHits: string[] = [];
let samples = 0;

function sampleProcs(): void {
  samples++;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let cmd: Buffer;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`);
    } catch {
      continue;
    }
    for (const n of NEEDLES) if (cmd.includes(n)) cmdlineHits.push(`${pid}: ${n}`);
    // with-secrets' own process: its environment (what /proc/PID/environ shows) must hold no secret either.
    if (cmd.includes(CLI)) {
      try {
        const env = readFileSync(`/proc/${pid}/environ`);
        for (const n of [CANARY, CANARY_B, CANARY_NEW]) if (env.includes(n)) cmdlineHits.push(`${pid} environ: ${n}`);
      } catch {
        /* gone */
      }
    }
  }
}

/** One audited run: output collected, /proc polled while it runs. */
async function audited(args: string[], opts: { env?: Record<string, string | undefined>; input?: string } = {}) {
  const child = spawn(NODE, [CLI, ...args], { env: w.env({ XDG_RUNTIME_DIR: runtime, ...opts.env }), cwd: w.home, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.end(opts.input ?? '');
  const timer = setInterval(sampleProcs, 2);
  const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
  try {
    return await finished(child);
  } finally {
    clearInterval(timer);
    clearTimeout(kill);
  }
}

function expectClean(what: string, text: string): void {
  for (const n of NEEDLES) expect(text.includes(n), `${what} holds ${n.slice(0, 16)}…`).toBe(false);
  expect(FULL_KEY.test(text), `${what} holds an age secret key`).toBe(false);
}

/** Every regular file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory()) out.push(...filesUnder(p));
    else if (st?.isFile()) out.push(p);
  }
  return out;
}

beforeAll(async () => {
  w = makeWorld();
  runtime = join(w.root, 'run');
  mkdirSync(runtime, { mode: 0o700 });
  childOut = join(w.root, 'child-out');
  mkdirSync(childOut);
  keySecret = readFileSync(join(w.home, '.config/sops/age/keys.txt'), 'utf8').match(/AGE-SECRET-KEY-1\S+/)![0];
  NEEDLES.push(keySecret);
  allowedKeyFiles.add(join(w.home, '.config/sops/age/keys.txt'));
  secrets = await w.sops('secrets.yaml', `openai:\n    api_key: ${CANARY}\ngh: ${CANARY_B}\nnested:\n    map: {a: 1}\n`);
  await w.sops('tampered.yaml', `token: ${CANARY}\n`);
  const t = join(w.home, 'tampered.yaml');
  writeFileSync(t, readFileSync(t, 'utf8').replace(/mac: ENC\[AES256_GCM,data:(.)/, (_m, c: string) => `mac: ENC[AES256_GCM,data:${c === 'A' ? 'B' : 'A'}`));
  w.exe(w.bin, 'noexec-target', '#!/bin/sh\nexit 0\n');
  chmodSync(join(w.bin, 'noexec-target'), 0o644);
  w.config({
    version: 1,
    sopsFile: secrets,
    profiles: {
      p: { command: fixture('print-env.mjs'), env: { OPENAI_API_KEY: 'openai.api_key', GH_TOKEN: 'gh' } },
      tampered: { command: fixture('print-env.mjs'), env: { T: { sops: t, key: 'token' } } },
      missing: { command: fixture('print-env.mjs'), env: { T: 'no.such.key' } },
      notscalar: { command: fixture('print-env.mjs'), env: { T: 'nested' } },
      noexec: { command: join(w.bin, 'noexec-target'), env: { T: 'gh' } },
      notfound: { command: join(w.bin, 'does-not-exist'), env: { T: 'gh' } },
    },
  });
});

afterAll(() => w?.cleanup());

describe('leak audit: a canary through every command and failure path', () => {
  it('launches: the child gets the values; nothing else shows them (output, cmdlines, wrapper environ)', async () => {
    const out = join(childOut, 'env.json');
    const r = await audited(['run', '--profile', 'p', '--', fixture('print-env.mjs')], { env: { WS_FIXTURE_OUT: out } });
    expect(r.code).toBe(0);
    // Positive control: the audit can see the canary where it belongs.
    expect(readFileSync(out, 'utf8')).toContain(CANARY);
    expectClean('stdout', r.stdout);
    expectClean('stderr', r.stderr);
    for (const args of [['run', '--profile', 'p', '--dry-run', '--', 'x'], ['run', '--profile', 'p', '--verbose', '--', fixture('print-env.mjs')], ['list'], ['list', '--json'], ['check'], ['check', '--json'], ['doctor'], ['doctor', join(w.home, 'tampered.yaml')], ['secret', 'list'], ['recipients', 'list', '--file', secrets], ['identity', 'list']]) {
      const res = await audited(args, { env: { WS_FIXTURE_OUT: join(childOut, 'v.json') } });
      expectClean(`${args.join(' ')}: stdout`, res.stdout);
      expectClean(`${args.join(' ')}: stderr`, res.stderr);
    }
  });

  it('every failure path: wrong key, tampered MAC, missing key path, non-scalar, not executable, not found, bad config, bad input', async () => {
    const other = ageKeygen();
    // Only the wrong key: the default key file is out of reach (another XDG_CONFIG_HOME), the config named explicitly.
    const emptyXdg = join(w.root, 'empty-xdg');
    mkdirSync(emptyXdg, { recursive: true });
    const wrongKey = { SOPS_AGE_KEY: other.secret, XDG_CONFIG_HOME: emptyXdg, WITH_SECRETS_CONFIG: join(w.home, '.config/with-secrets/config.yaml') };
    NEEDLES.push(other.secret);
    const cases: Array<{ args: string[]; env?: Record<string, string | undefined>; input?: string; code?: number }> = [
      { args: ['run', '--profile', 'p', '--', 'true'], env: wrongKey, code: 125 },
      { args: ['run', '--profile', 'tampered', '--', 'true'], code: 125 },
      { args: ['run', '--profile', 'missing', '--', 'true'], code: 125 },
      { args: ['run', '--profile', 'notscalar', '--', 'true'], code: 125 },
      { args: ['noexec'], code: 126 },
      { args: ['notfound'], code: 127 },
      { args: ['run', '--profile', 'nosuchprofile', '--', 'true'], code: 125 },
      { args: ['run', '--config', join(w.home, 'tampered.yaml'), '--profile', 'p', '--', 'true'], code: 125 },
      { args: ['decrypt', join(w.home, 'tampered.yaml')] },
      { args: ['decrypt', secrets], env: wrongKey },
      { args: ['decrypt', '--extract', '["nope"]', secrets] },
      { args: ['decrypt', '--input-type', 'json', secrets] },
      { args: ['secret', 'set', 'openai.api_key', '--file', join(w.home, 'tampered.yaml')], input: `${CANARY_NEW}\n` },
      { args: ['secret', 'set', 'x', '--file', secrets], input: `${CANARY_NEW}\n`, env: wrongKey },
      { args: ['secret', 'set', 'x', '--file', secrets], input: '' },
      { args: ['secret', 'rm', 'no.such', '--file', secrets] },
      { args: ['recipients', 'add', 'age1notarecipient', '--file', secrets] },
      { args: ['check'], env: wrongKey },
      { args: ['init'] },
      { args: ['identity', 'import', '-'], input: `${keySecret}\n`, env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent' } },
    ];
    for (const c of cases) {
      const r = await audited(c.args, { ...(c.env ? { env: c.env } : {}), ...(c.input !== undefined ? { input: c.input } : {}) });
      const what = c.args.join(' ');
      if (c.code !== undefined) expect(r.code, `${what}: ${r.stderr}`).toBe(c.code);
      else expect(r.code, what).not.toBe(0);
      // A message says what failed (check and doctor report on stdout).
      expect(`${r.stderr}${r.stdout}`.trim(), `${what} says what failed`).not.toBe('');
      expect(r.stderr, `${what}: no internal error`).not.toMatch(/internal error|this is a bug/);
      expectClean(`${what}: stdout`, r.stdout);
      expectClean(`${what}: stderr`, r.stderr);
    }
  });

  it('writers: set, rm, recipients add/rm, rotate, identity generate: no value or key in output', async () => {
    const extra = ageKeygen();
    const cases: Array<{ args: string[]; input?: string }> = [
      { args: ['secret', 'set', 'new.token', '--file', secrets], input: `${CANARY_NEW}\n` },
      { args: ['secret', 'rm', 'new.token', '--file', secrets] },
      { args: ['secret', 'set', 'new.token', '--file', secrets], input: `${CANARY_NEW}\n` },
      { args: ['recipients', 'add', extra.recipient, '--file', secrets] },
      { args: ['recipients', 'rm', extra.recipient, '--file', secrets] },
      { args: ['rotate', '--file', secrets] },
      { args: ['identity', 'generate', '--file', join(w.home, 'second-key.txt')] },
    ];
    for (const c of cases) {
      const r = await audited(c.args, c.input === undefined ? {} : { input: c.input });
      expect(r.code, `${c.args.join(' ')}: ${r.stderr}`).toBe(0);
      expectClean(`${c.args.join(' ')}: stdout`, r.stdout);
      expectClean(`${c.args.join(' ')}: stderr`, r.stderr);
    }
    allowedKeyFiles.add(join(w.home, 'second-key.txt'));
    NEEDLES.push(readFileSync(join(w.home, 'second-key.txt'), 'utf8').match(/AGE-SECRET-KEY-1\S+/)![0]);
    // The values are still right after all that (nothing lost).
    const d = await audited(['decrypt', '--extract', '["new"]["token"]', secrets]);
    expect(d.stdout.trim()).toBe(CANARY_NEW);
  });

  it('secret edit: plaintext only in a 0600 file in a 0700 dir under XDG_RUNTIME_DIR while the editor runs, gone after', async () => {
    const log = join(childOut, 'editor.log');
    // The edit comes from a sed script file, so that the editor's own argv holds no canary.
    const sedScript = join(childOut, 'edit.sed');
    writeFileSync(sedScript, `s/^gh: .*/gh: ${CANARY_B}-edited/\n`);
    // grep's pattern comes from a file too: a canary in grep's argv would be caught by the /proc sampler (it was, once, on CI).
    const pattern = join(childOut, 'canary.pattern');
    writeFileSync(pattern, `${CANARY}\n`);
    const editor = w.exe(w.bin, 'audit-editor', `#!/bin/sh\nf="$1"\nd=$(dirname "$f")\nprintf '%s\\n%s\\n%s\\n' "$f" "$(stat -c %a "$f")" "$(stat -c %a "$d")" > '${log}'\ngrep -q -F -f '${pattern}' "$f" && echo has-canary >> '${log}'\nsed -i -f '${sedScript}' "$f"\n`);
    const r = await audited(['secret', 'edit', '--file', secrets], { env: { EDITOR: editor, SOPS_EDITOR: undefined } });
    expect(r.code, r.stderr).toBe(0);
    const [path, fileMode, dirMode, has] = readFileSync(log, 'utf8').trim().split('\n');
    expect(path!.startsWith(runtime + '/')).toBe(true);
    expect([fileMode, dirMode, has]).toEqual(['600', '700', 'has-canary']);
    expect(existsSync(path!)).toBe(false);
    expect(existsSync(join(path!, '..'))).toBe(false);
    expectClean('edit stdout', r.stdout);
    expectClean('edit stderr', r.stderr);
    const d = await audited(['decrypt', '--extract', '["gh"]', secrets]);
    expect(d.stdout.trim()).toBe(`${CANARY_B}-edited`);
    // Without XDG_RUNTIME_DIR it refuses rather than fall back to a disk-backed temp dir.
    const refused = await audited(['secret', 'edit', '--file', secrets], { env: { EDITOR: editor, XDG_RUNTIME_DIR: undefined } });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/XDG_RUNTIME_DIR/);
  });

  it('no process of any run had a canary or key in its cmdline, nor the wrapper in its environ', () => {
    expect(samples).toBeGreaterThan(50);
    expect(cmdlineHits).toEqual([]);
  });

  it('files written under HOME, TMPDIR and XDG_RUNTIME_DIR: ciphertext only; keys only in key files; parse cache ciphertext only', () => {
    const files = [...filesUnder(w.home), ...filesUnder(w.tmp), ...filesUnder(runtime)];
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const n of [CANARY, CANARY_B, CANARY_NEW]) expect(bytes.includes(n), `${f} holds ${n}`).toBe(false);
      if (FULL_KEY.test(bytes.toString('latin1'))) expect([...allowedKeyFiles], `${f} holds key material`).toContain(f);
    }
    const cache = filesUnder(join(w.home, '.cache'));
    expect(cache.length, 'the parse cache was used').toBeGreaterThan(0);
    for (const f of cache) expect(statSync(f).mode & 0o077, `${f} mode`).toBe(0);
    // No temporary or lock file is left next to the secrets file.
    expect(readdirSync(w.home).filter((n) => /\.tmp|\.lock|~$/.test(n))).toEqual([]);
    expect(filesUnder(runtime)).toEqual([]);
  });
});

describe('SIGUSR1 never opens an inspector (Node 20 spawn path)', () => {
  it.skipIf(!process.version.startsWith('v20.'))('the wrapper survives SIGUSR1, forwards it, and no debugger port opens', async () => {
    const ready = join(childOut, 'usr1-ready');
    const got = join(childOut, 'usr1-got');
    const script = w.exe(w.bin, 'usr1-child', `#!/bin/sh\ntrap 'echo got > ${got}' USR1\necho ready > ${ready}\nfor i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do [ -e ${got} ] && exit 0; sleep 0.2; done\nexit 3\n`);
    const listening = () => ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n') : [])).filter((l) => /:2405 .* 0A /.test(l)).length;
    const before = listening();
    const child = spawn(NODE, [CLI, 'run', '--profile', 'p', '--', script], { env: w.env({ XDG_RUNTIME_DIR: runtime }), stdio: ['ignore', 'pipe', 'pipe'] });
    const done = finished(child);
    for (let i = 0; i < 200 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(ready)).toBe(true);
    process.kill(child.pid!, 'SIGUSR1');
    const r = await done;
    expect(r.stderr).not.toMatch(/Debugger listening|inspector/i);
    expect(listening()).toBe(before);
    // The wrapper did not die of SIGUSR1: it forwarded it, and the child's exit status came back.
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(readFileSync(got, 'utf8').trim()).toBe('got');
  });
});
