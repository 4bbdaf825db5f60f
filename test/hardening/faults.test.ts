// Faults: a SIGKILL at each step of a write (strace fault injection), a child or a reader that closes stdout early, an environment near ARG_MAX, files vanishing mid-launch, a full cache disk.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, finished, makeWorld, NODE, runCli, type LaunchWorld } from '../e2e/launch-harness.js';
import { makeSopsFile } from '../helpers/sops-fixture.js';

const CANARY = 'CANARY-fault-3Wd8';
let w: LaunchWorld;
let dir = '';
let secrets = '';

const haveStrace = spawnSync('strace', ['-V']).status === 0;
if (!haveStrace) console.warn('faults: strace is not installed; skipping the SIGKILL-at-each-step test (apt-get install strace)');
function canMount(): boolean {
  const probe = join(w.root, 'mount-probe');
  mkdirSync(probe, { recursive: true });
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  return ok;
}

beforeAll(async () => {
  w = makeWorld();
  dir = join(w.root, 'vault');
  mkdirSync(dir);
  secrets = (await makeSopsFile({ dir, name: 'secrets.yaml', plain: `api:\n    token: ${CANARY}\n`, recipients: [w.recipient] })).path;
  const child = w.exe(w.bin, 'fault-child', '#!/bin/sh\nprintf "%s" "$TOKEN"\n');
  const bigFile = (await makeSopsFile({ dir: w.home, name: 'big.yaml', plain: `big: ${'b'.repeat(80 * 1024)}\n`, recipients: [w.recipient] })).path;
  w.config({
    version: 1,
    sopsFile: secrets,
    profiles: { 'fault-child': { command: child, env: { TOKEN: 'api.token' } }, 'big-child': { command: child, env: { TOKEN: { sops: bigFile, key: 'big' } } } },
  });
});
afterAll(() => w?.cleanup());

/** The decrypted document, or the failure (a whole, MAC-verified file or nothing). */
async function contents(): Promise<Record<string, unknown>> {
  const d = await runCli(['decrypt', '--output-type', 'json', secrets], { env: w.env() });
  expect(d.code, `the file must stay whole: ${d.stderr}`).toBe(0);
  return JSON.parse(d.stdout) as Record<string, unknown>;
}

const strays = () => readdirSync(dir).filter((n) => n !== 'secrets.yaml');

describe('SIGKILL at each step of a write (strace fault injection)', () => {
  /** Each step of `secret set` as strace sees it: the syscall that starts it, and the path filter that picks it. */
  const steps = (lock: string): Array<[string, string[]]> => [
    ['lock file created', ['-P', lock, '-e', 'trace=openat', '-e', 'inject=openat:signal=SIGKILL:when=1']],
    ['lock holder written', ['-P', lock, '-e', 'trace=write', '-e', 'inject=write:signal=SIGKILL:when=1']],
    ['original read', ['-P', secrets, '-e', 'trace=openat', '-e', 'inject=openat:signal=SIGKILL:when=1']],
    ['temp file fsynced', ['-e', 'trace=fsync', '-e', 'inject=fsync:signal=SIGKILL:when=1']],
    ['rename over the original', ['-e', 'trace=rename,renameat,renameat2', '-e', 'inject=rename,renameat,renameat2:signal=SIGKILL:when=1']],
    ['directory fsynced', ['-P', dir, '-e', 'trace=fsync', '-e', 'inject=fsync:signal=SIGKILL:when=1']],
    ['lock checked before release', ['-P', lock, '-e', 'trace=openat', '-e', 'inject=openat:signal=SIGKILL:when=2']],
    ['lock removed', ['-P', lock, '-e', 'trace=unlink', '-e', 'inject=unlink:signal=SIGKILL:when=1']],
  ];

  it.skipIf(!haveStrace)('each step: the file is the old or the new one, whole; the next writer recovers the lock and sweeps the temp file', { timeout: 300_000 }, async () => {
    const outcomes: string[] = [];
    let n = 0;
    for (const [step, args] of steps(`${secrets}.lock`)) {
      const key = `k${n++}`;
      const before = await contents();
      const r = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', ...args, NODE, CLI, 'secret', 'set', `added.${key}`, '--file', secrets], { env: w.env(), input: 'new-value\n', encoding: 'utf8', timeout: 60_000 });
      const after = await contents();
      const added = (after.added as Record<string, string> | undefined)?.[key];
      // Old or new, nothing in between; the canary is untouched either way.
      if (added === undefined) expect(after).toEqual(before);
      else expect(added).toBe('new-value');
      expect((after.api as { token: string }).token).toBe(CANARY);
      outcomes.push(`${step}: ${r.signal === 'SIGKILL' || r.status === 137 ? 'killed' : `exit ${r.status}`}, file ${added === undefined ? 'old' : 'new'}, left: ${strays().join(' ') || 'nothing'}`);
      // The next writer takes over a dead writer's lock and removes its temp file.
      const next = await runCli(['secret', 'set', `recovered.${key}`, '--file', secrets], { env: w.env(), input: 'r\n', timeoutMs: 60_000 });
      expect(next.code, `${step}: recovery: ${next.stderr}`).toBe(0);
      expect(strays(), `${step}: left after recovery`).toEqual([]);
    }
    console.log(`kill points:\n  ${outcomes.join('\n  ')}`);
    expect(outcomes.filter((o) => o.includes('killed')).length).toBeGreaterThanOrEqual(6);
  });
});

describe('closed pipes', () => {
  it('a child that closes its stdout early: the launch still ends with the child’s status', async () => {
    const early = w.exe(w.bin, 'closes-stdout', '#!/bin/sh\nexec 1>&-\nsleep 0.2\nexit 7\n');
    const r = await runCli(['run', '--profile', 'fault-child', '--', early], { env: w.env() });
    expect(r.code).toBe(7);
    expect(r.stderr).toBe('');
  });

  it('a reader that goes away (`with-secrets … | head -c1`): no internal error, no stack trace, the file untouched', async () => {
    const before = readFileSync(secrets);
    for (const args of [['decrypt', secrets], ['list'], ['list', '--json'], ['completion', 'bash'], ['--help']]) {
      const child = spawn(NODE, [CLI, ...args], { env: w.env(), stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.once('data', () => child.stdout!.destroy());
      const r = await finished(child);
      expect(r.stderr, args.join(' ')).not.toMatch(/internal error|this is a bug|at .*\.js:\d+|EPIPE/);
    }
    expect(readFileSync(secrets)).toEqual(before);
  });
});

describe('a huge environment', () => {
  it('parent environment near ARG_MAX: the launch that fits works, the one that does not is a clear 125 (never E2BIG or a core dump)', async () => {
    // The kernel's limit (fs/exec.c): a quarter of the stack limit, at least 128 KiB, at most 6 MiB (also when unlimited).
    const stack = execFileSync('sh', ['-c', 'ulimit -s'], { encoding: 'utf8' }).trim();
    const limit = stack === 'unlimited' ? 6 * 1024 * 1024 : Math.max(128 * 1024, Math.min(6 * 1024 * 1024, (Number(stack) * 1024) / 4));
    const big: Record<string, string> = {};
    // Variables of 100 KiB each (under MAX_ARG_STRLEN), then one more, filling the space to 40 KiB short of the limit.
    let room = limit - 40 * 1024;
    for (let i = 0; room > 0; i++) {
      const size = Math.min(100 * 1024, room);
      big[`FILL${i}`] = 'x'.repeat(size);
      room -= size + `FILL${i}=`.length + 1 + 8;
    }
    const fits = await runCli(['fault-child'], { env: w.env(big) });
    expect(fits.code, fits.stderr.slice(0, 300)).toBe(0);
    expect(fits.stdout).toBe(CANARY);
    // The same parent environment plus an 80 KiB secret no longer fits: a clear 125 before any exec.
    const over = await runCli(['big-child'], { env: w.env(big) });
    expect(over.code, over.stderr.slice(0, 300)).toBe(125);
    expect(over.stderr).toMatch(/with-secrets: .*(environment|argument)/i);
    expect(over.stderr).not.toContain(CANARY);
  });
});

describe('files that vanish or move while launches run', () => {
  it('the secrets file renamed away and back in a loop: each launch gets the value or a clear 125, never a crash', { timeout: 300_000 }, async () => {
    const aside = `${secrets}.aside`;
    let stop = false;
    const flipper = (async () => {
      while (!stop) {
        renameSync(secrets, aside);
        await new Promise((r) => setTimeout(r, 3));
        renameSync(aside, secrets);
        await new Promise((r) => setTimeout(r, 3));
      }
    })();
    const results = [];
    for (let i = 0; i < 30; i++) results.push(await runCli(['fault-child'], { env: w.env() }));
    stop = true;
    await flipper;
    const tally = { ok: 0, clean125: 0 };
    for (const r of results) {
      if (r.code === 0) {
        expect(r.stdout).toBe(CANARY);
        tally.ok++;
      } else {
        expect(r.code).toBe(125);
        expect(r.stderr).toMatch(/with-secrets: .*(not found|no such|cannot read)/i);
        expect(r.stderr).not.toMatch(/internal error/);
        tally.clean125++;
      }
    }
    console.log(`vanishing file: ${tally.ok} launches got the value, ${tally.clean125} ended in a clear 125`);
    expect(tally.ok + tally.clean125).toBe(30);
    expect(existsSync(secrets)).toBe(true);
  });
});

describe('a full disk under the cache', () => {
  it('XDG_CACHE_HOME on a full tmpfs: launches still work (the caches are optional)', async () => {
    if (!canMount()) {
      console.warn('faults: mount not permitted here; skipping the full-cache-disk case');
      return;
    }
    const cache = join(w.root, 'full-cache');
    mkdirSync(cache, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', cache]);
    try {
      spawnSync('dd', ['if=/dev/zero', `of=${join(cache, 'fill')}`, 'bs=4k'], { stdio: 'ignore' });
      const r = await runCli(['fault-child'], { env: w.env({ XDG_CACHE_HOME: cache }) });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(CANARY);
      expect(r.stderr).not.toMatch(/internal error/);
    } finally {
      spawnSync('umount', [cache]);
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
