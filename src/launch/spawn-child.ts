// Starts the planned child with inherited stdio and reports how it ended: through libuv's process handle where Node exposes it, else node:child_process.
import type { LaunchPlan } from './plan.js';

/** What a spawned child reports, once: either it could not start, or how it ended. */
export interface ChildEvents {
  /** The child did not start; `code` is the errno name (`ENOENT`, `EACCES`, `ENOEXEC`, …). */
  onSpawnError(code: string): void;
  /** The child ended: its exit code, or the signal that killed it (then `code` is null). */
  onExit(code: number | null, signal: NodeJS.Signals | null): void;
}

/** A started child. */
export interface RunningChild {
  /** Sends `signal` to the child while it runs; does nothing once it has ended or when it never started. */
  kill(signal: NodeJS.Signals): void;
}

/** The part of libuv's process handle (Node's `process_wrap` binding) this module uses. */
interface ProcessHandle {
  pid: number;
  onexit: (exitCode: number, signal: string) => void;
  spawn(options: object): number;
  close(): void;
}
type ProcessHandleClass = new () => ProcessHandle;

/** The signal a child died of, from the name libuv reports ('' when it exited). */
const signalOf = (name: string): NodeJS.Signals | null => (name === '' ? null : (name as NodeJS.Signals));

/**
 * The process handle class of this Node, or undefined. node:child_process is a thin layer over it,
 * but loading that layer brings net, dgram and the streams (~2.5 ms, and the young-generation
 * garbage they leave costs a scavenge: ~5 ms of a 10-secret launch on Node 20; perf, issue 7).
 * Only a Node without `process.execve` (before 22.15 and 23.11) spawns at all: every such release is
 * already published, so the interface this path meets is known and cannot change under us; anything
 * unexpected falls back to node:child_process. `process.binding` is deprecated in the documentation only, but warns under
 * `--pending-deprecation`: a launch must print nothing of its own, so that one warning is muted.
 */
export function processHandleClass(): ProcessHandleClass | undefined {
  const proc = process as unknown as { binding?: (name: string) => unknown; noDeprecation: boolean | undefined };
  if (typeof proc.binding !== 'function') return undefined;
  const muted = proc.noDeprecation;
  proc.noDeprecation = true;
  try {
    const Process = (proc.binding('process_wrap') as { Process?: unknown }).Process;
    const proto = typeof Process === 'function' ? (Process.prototype as Partial<ProcessHandle>) : undefined;
    return proto !== undefined && typeof proto.spawn === 'function' && typeof proto.close === 'function' ? (Process as ProcessHandleClass) : undefined;
  } catch {
    return undefined;
  } finally {
    proc.noDeprecation = muted;
  }
}

/** The environment as `NAME=value` strings, as execve takes it. */
function envPairs(env: Readonly<Record<string, string>>): string[] {
  const pairs: string[] = [];
  for (const name in env) pairs.push(`${name}=${env[name]}`);
  return pairs;
}

/**
 * Starts the child through libuv's process handle (see {@link processHandleClass}), with the options
 * node:child_process would pass for `stdio: 'inherit'`. Events come asynchronously, as from child_process.
 */
export function spawnWithProcessHandle(plan: LaunchPlan, events: ChildEvents, Process: ProcessHandleClass): RunningChild {
  const handle = new Process();
  let running = false;
  handle.onexit = (exitCode, signal) => {
    running = false;
    handle.close();
    const killedBy = signalOf(signal);
    events.onExit(killedBy === null ? exitCode : null, killedBy);
  };
  const inherit = [0, 1, 2].map((fd) => ({ type: 'fd', fd }));
  const err = handle.spawn({ file: plan.file, args: [...plan.argv], envPairs: envPairs(plan.env), stdio: inherit, detached: false, windowsHide: false, windowsVerbatimArguments: false });
  if (err !== 0) {
    handle.close();
    const code = process.getBuiltinModule('node:util').getSystemErrorName(err);
    process.nextTick(() => events.onSpawnError(code));
  } else {
    running = true;
  }
  return {
    kill(signal) {
      if (!running) return;
      try {
        process.kill(handle.pid, signal);
      } catch {
        /* it has just ended */
      }
    },
  };
}

/** Starts the child with node:child_process (`stdio: 'inherit'`). */
export function spawnWithChildProcess(plan: LaunchPlan, events: ChildEvents): RunningChild {
  const { spawn } = process.getBuiltinModule('node:child_process');
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(plan.file, plan.argv.slice(1), { argv0: plan.argv[0] ?? plan.file, env: { ...plan.env }, stdio: 'inherit' });
  } catch (err) {
    // child_process reports only some errnos as an 'error' event and throws the others (ETXTBSY, E2BIG, …).
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    process.nextTick(() => events.onSpawnError(code));
    return { kill() {} };
  }
  let ended = false;
  child.once('error', (err: NodeJS.ErrnoException) => {
    if (ended) return;
    ended = true;
    events.onSpawnError(err.code ?? 'error');
  });
  child.once('exit', (code, signal) => {
    if (ended) return;
    ended = true;
    events.onExit(code, signal);
  });
  return {
    kill(signal) {
      if (ended) return;
      try {
        child.kill(signal);
      } catch {
        /* it has just ended */
      }
    },
  };
}

/**
 * Starts the child the cheapest way this Node allows (see {@link processHandleClass}). A Node with
 * `process.execve` spawns only a program changed moments ago, rarely enough to take node:child_process,
 * whose interface is public, over a handle whose options a future release may change.
 */
export function spawnChild(plan: LaunchPlan, events: ChildEvents): RunningChild {
  const hasExecve = typeof (process as unknown as { execve?: unknown }).execve === 'function';
  const Process = hasExecve ? undefined : processHandleClass();
  return Process === undefined ? spawnWithChildProcess(plan, events) : spawnWithProcessHandle(plan, events, Process);
}
