// The launcher as a process: signals, exit statuses seen by a shell, signal dispositions, a real pty, and no secret left behind.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInPty } from '../helpers/pty.js';
import { CLI, cmdlinesContaining, filesContaining, finished, fixture, makeWorld, NODE, runCli, startCli, waitForText, type LaunchWorld } from './launch-harness.js';

let w: LaunchWorld;
const CANARY = `canary-${Math.random().toString(36).slice(2)}-sig`;
/** Which carry-out path the Node under test takes. */
const EXECVE = spawnSync(NODE, ['-p', "typeof process.execve === 'function'"], { encoding: 'utf8' }).stdout.trim() === 'true';

beforeAll(async () => {
  w = makeWorld();
  const secrets = await w.sops('secrets.yaml', `gh:\n  token: ${CANARY}\n`);
  w.config({ version: 1, sopsFile: secrets, profiles: { gh: { env: { GITHUB_TOKEN: 'gh.token' } } } });
  console.info(`launcher signal tests on ${NODE} (${EXECVE ? 'execve' : 'spawn'} path)`);
});
afterAll(() => w.cleanup());

/** Runs a shell command line with NODE and CLI exported, as a user's script would call with-secrets. */
function sh(script: string, shell = 'sh'): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(shell, ['-c', script], { env: { ...w.env(), WS_NODE: NODE, WS_CLI: CLI }, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe(`signals and statuses (${EXECVE ? 'execve' : 'spawn'} path)`, () => {
  it('a child killed by SIGTERM or SIGKILL is seen by the calling shell as 143 or 137', () => {
    for (const [sig, status] of [
      ['TERM', 143],
      ['KILL', 137],
      ['HUP', 129],
    ] as const) {
      const r = sh(`"$WS_NODE" "$WS_CLI" run -p gh -- "${fixture('exit-with.sh')}" signal ${sig}; echo "status=$?"`);
      expect(r.stdout).toBe(`status=${status}\n`);
      // The shell may report the signal ("Terminated"); with-secrets itself says nothing.
      expect(r.stderr).not.toContain('with-secrets');
    }
  });

  it('a child dying of a core-dumping signal gives 128+N, without the wrapper dumping core', () => {
    const r = sh(`ulimit -c 0; "$WS_NODE" "$WS_CLI" run -p gh -- "${fixture('exit-with.sh')}" signal QUIT; echo "status=$?"`);
    expect(r.stdout).toBe('status=131\n');
  });

  it('SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 sent to with-secrets reach the child, once each', async () => {
    const log = join(w.tmp, `signals-${Date.now()}.log`);
    const child = startCli(['run', '-p', 'gh', '--', fixture('report-signals.mjs'), log, 'SIGTERM'], w.env());
    const done = finished(child);
    await waitForText(log, 'ready');
    for (const s of ['SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const) {
      child.kill(s);
      await waitForText(log, s);
    }
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(0);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(log, 'utf8')).toBe('ready\nSIGHUP\nSIGUSR1\nSIGUSR2\nSIGTERM\n');
  });

  it('the child starts with default dispositions: nothing ignored or blocked, and `yes | head -1` works', () => {
    const r = sh(`"$WS_NODE" "$WS_CLI" run -p gh -- "${fixture('sig-state.sh')}"`);
    expect(r.status).toBe(0);
    const ign = BigInt(`0x${/SigIgn:\s*([0-9a-f]+)/.exec(r.stdout)![1]}`);
    const blk = BigInt(`0x${/SigBlk:\s*([0-9a-f]+)/.exec(r.stdout)![1]}`);
    expect(ign & (1n << 12n)).toBe(0n); // SIGPIPE
    expect(ign & (1n << 24n)).toBe(0n); // SIGXFSZ
    expect(blk).toBe(0n);
    expect(r.stdout).toMatch(/\ny\n$/);
    expect(r.stderr).not.toMatch(/Broken pipe/);
  });

  it('with-secrets CMD | head -1 ends by SIGPIPE like CMD alone would (141 under pipefail)', () => {
    const r = sh(`set -o pipefail; "$WS_NODE" "$WS_CLI" run -p gh -- yes | head -1; echo "status=$?"`, 'bash');
    expect(r.stdout).toBe('y\nstatus=141\n');
    expect(r.stderr).toBe('');
  });

  it('leaves the calling shell\'s environment unchanged', () => {
    const r = sh(`"$WS_NODE" "$WS_CLI" run -p gh -- true; printf '[%s]' "\${GITHUB_TOKEN-unset}" "\${WITH_SECRETS_INJECTED-unset}"`);
    expect(r.stdout).toBe('[unset][unset]');
  });
});

describe('no secret outside the child', () => {
  it('the canary is in no /proc/*/cmdline during the run, in no output, and in no file left under HOME or TMPDIR', async () => {
    const log = join(w.tmp, `canary-${Date.now()}.log`);
    const child = startCli(['--verbose', 'run', '-p', 'gh', '--', fixture('report-signals.mjs'), log, 'SIGTERM'], w.env());
    const done = finished(child);
    await waitForText(log, 'ready');
    expect(cmdlinesContaining(CANARY)).toEqual([]);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(CANARY);
    expect(r.stderr).toMatch(/GITHUB_TOKEN <- .*secrets\.yaml: gh\.token/);
    // Failures too: a wrong key path and a dry run.
    const bad = await runCli(['--dry-run', 'run', '-p', 'gh', '--', 'true'], { env: w.env() });
    expect(bad.stdout + bad.stderr).not.toContain(CANARY);
    expect(filesContaining(w.root, CANARY)).toEqual([]);
  });
});

describe('a real terminal', () => {
  it('an interactive child keeps its TTY and gets Ctrl-C exactly once', async () => {
    const r = await runInPty([NODE, CLI, 'run', '-p', 'gh', '--', fixture('interactive.mjs')], [{ expect: 'ready>', send: '\x03' }], w.env({ TERM: 'xterm' }), 30_000);
    expect(r.output).toContain('tty=yyy');
    expect(r.output).toContain('got SIGINT #1');
    expect(r.output).not.toContain('#2');
    expect(r.code).toBe(0);
  });

  it('job control: Ctrl-Z stops it, fg resumes it, and it still gets Ctrl-C once', async () => {
    const cmd = `"${NODE}" "${CLI}" run -p gh -- "${fixture('interactive.mjs')}"\n`;
    const r = await runInPty(
      ['bash', '--norc', '--noprofile', '-i'],
      [
        { expect: '$ ', send: cmd },
        { expect: 'ready>', send: '\x1a' },
        { expect: 'Stopped', send: 'fg\n' },
        { expect: 'continued', send: '\x03' },
        { expect: 'bye', send: 'echo "st=$?"; exit\n' },
      ],
      w.env({ TERM: 'dumb', PS1: '$ ' }),
      30_000,
    );
    expect(r.output).toContain('continued');
    expect(r.output).toContain('got SIGINT #1');
    expect(r.output).not.toContain('#2');
    expect(r.output).toMatch(/st=0/);
  });
});
