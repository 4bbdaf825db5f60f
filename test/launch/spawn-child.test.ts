// Starting the child: libuv's process handle and node:child_process must report the same things for the same real children.
import { chmodSync, closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LaunchPlan } from '../../src/launch/plan.js';
import { processHandleClass, spawnWithChildProcess, spawnWithProcessHandle, type ChildEvents, type RunningChild } from '../../src/launch/spawn-child.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-spawn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Outcome = { spawnError: string } | { code: number | null; signal: NodeJS.Signals | null };

const Process = processHandleClass();
const spawners: [string, (plan: LaunchPlan, events: ChildEvents) => RunningChild][] = [
  ['process handle', (plan, events) => spawnWithProcessHandle(plan, events, Process!)],
  ['node:child_process', spawnWithChildProcess],
];

/** Starts `plan`, lets `during` act on the running child, and resolves with what the spawner reported (once, never before it returned). */
function run(spawn: (plan: LaunchPlan, events: ChildEvents) => RunningChild, plan: LaunchPlan, during?: (child: RunningChild) => void): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let reported: Outcome | undefined;
    let returned = false;
    const report = (o: Outcome): void => {
      if (!returned) reject(new Error(`reported before the spawner returned: ${JSON.stringify(o)}`));
      if (reported !== undefined) reject(new Error(`reported twice: ${JSON.stringify(reported)}, then ${JSON.stringify(o)}`));
      reported = o;
      // A second report would come within a tick or two.
      setTimeout(() => resolve(o), 20);
    };
    const child = spawn(plan, { onSpawnError: (code) => report({ spawnError: code }), onExit: (code, signal) => report({ code, signal }) });
    returned = true;
    during?.(child);
  });
}

const sh = (script: string, env: Record<string, string> = {}): LaunchPlan => ({ file: '/bin/sh', argv: ['sh', '-c', script], env });

it('finds the process handle on this Node (both Nodes the project tests on have it)', () => {
  expect(Process).toBeTypeOf('function');
});

describe.each(spawners)('spawn with %s', (_name, spawn) => {
  it('reports the exit code', async () => {
    expect(await run(spawn, sh('exit 3'))).toEqual({ code: 3, signal: null });
  });

  it('reports the signal that killed the child, with no exit code', async () => {
    expect(await run(spawn, sh('kill -TERM $$'))).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('passes argv[0], the arguments and exactly the planned environment', async () => {
    const out = join(dir, `argv-${spawn === spawnWithChildProcess ? 'cp' : 'handle'}`);
    const plan: LaunchPlan = { file: '/bin/sh', argv: ['custom-argv0', '-c', 'tr "\\0" "|" < /proc/$$/cmdline > "$OUT"; echo >> "$OUT"; env >> "$OUT"', 'x', 'two words'], env: { OUT: out, ONLY: 'this' } };
    expect(await run(spawn, plan)).toEqual({ code: 0, signal: null });
    const [cmdline, ...env] = readFileSync(out, 'utf8').split('\n');
    expect(cmdline).toBe('custom-argv0|-c|tr "\\0" "|" < /proc/$$/cmdline > "$OUT"; echo >> "$OUT"; env >> "$OUT"|x|two words|');
    // sh adds PWD (and may add SHLVL, _); nothing else from this process may reach the child.
    expect(env.filter((l) => l !== '' && !/^(PWD|SHLVL|_)=/.test(l)).sort()).toEqual([`ONLY=this`, `OUT=${out}`]);
  });

  it('forwards a signal to the running child, and does nothing once it has ended', async () => {
    const ready = join(dir, `ready-${spawn === spawnWithChildProcess ? 'cp' : 'handle'}`);
    let child: RunningChild | undefined;
    const outcome = run(spawn, sh(`trap 'exit 42' TERM; : > "${ready}"; while :; do sleep 0.02; done`), (c) => {
      child = c;
      const poll = setInterval(() => {
        try {
          readFileSync(ready);
        } catch {
          return;
        }
        clearInterval(poll);
        c.kill('SIGTERM');
      }, 10);
    });
    expect(await outcome).toEqual({ code: 42, signal: null });
    expect(() => child!.kill('SIGTERM')).not.toThrow();
  });

  it('reports an executable that cannot start as an errno name, asynchronously and once', async () => {
    const noExec = join(dir, 'not-executable');
    writeFileSync(noExec, '#!/bin/sh\nexit 0\n');
    chmodSync(noExec, 0o644);
    expect(await run(spawn, { file: noExec, argv: [noExec], env: {} })).toEqual({ spawnError: 'EACCES' });
    expect(await run(spawn, { file: dir, argv: [dir], env: {} })).toEqual({ spawnError: 'EACCES' });
  });

  it('reports a program that is still being written (ETXTBSY) the same way, without throwing', async () => {
    const busy = join(dir, `busy-${spawn === spawnWithChildProcess ? 'cp' : 'handle'}`);
    copyFileSync('/bin/true', busy);
    chmodSync(busy, 0o755);
    const writer = openSync(busy, 'a');
    try {
      expect(await run(spawn, { file: busy, argv: [busy], env: {} })).toEqual({ spawnError: 'ETXTBSY' });
    } finally {
      closeSync(writer);
    }
  });
});
