// Starts the planned child: execve where Node has it (nothing stays resident), else spawn and supervise. The only place with launch signal handling.
import { writeSync } from 'node:fs';
import type { LaunchPlan } from '../launch/plan.js';
import { spawnChild } from '../launch/spawn-child.js';

type Execve = (file: string, args: readonly string[], env: Record<string, string>) => never;

/** Signals whose default action dumps core: a wrapper that re-raised one would write its memory (secrets) to disk. */
const CORE_SIGNALS = new Set(['SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGSEGV', 'SIGSYS', 'SIGXCPU', 'SIGXFSZ']);

/** Sent to the wrapper, passed on to the child. SIGINT/SIGQUIT come from the terminal to the whole group already; SIGWINCH too. */
const FORWARDED: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];
/** Ignored by the wrapper while the child runs, so Ctrl-C and Ctrl-\ reach the child once and the wrapper waits for it. */
const IGNORED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGQUIT'];

const noop = () => {};

/** What a failed start means, as the shells report it: 127 not found, 126 found but not runnable, else 125. */
const SPAWN_FAILURES: Readonly<Record<string, { what: string; exit: number; hint?: string }>> = {
  ENOENT: { what: 'not found', exit: 127 },
  EACCES: { what: 'permission denied (EACCES)', exit: 126 },
  ENOEXEC: { what: 'not a program this system can run (ENOEXEC)', exit: 126 },
  ETXTBSY: { what: 'the file is being written (ETXTBSY)', exit: 126, hint: 'run it again once whatever writes it (a build, a download) has finished' },
  E2BIG: { what: 'the arguments and environment are too large (E2BIG)', exit: 125, hint: 'inject fewer or smaller secrets, or pass fewer arguments' },
};

/** Writes a with-secrets message straight to fd 2, never creating process.stderr (whose pipe setup an exec'd child would inherit). */
function report(message: string, hint?: string): void {
  try {
    writeSync(2, `with-secrets: ${message}\n${hint === undefined ? '' : `hint: ${hint}\n`}`);
  } catch {
    /* nowhere to report */
  }
}

/**
 * Makes the current disposition of `signal` the default one. Node ignores SIGPIPE and SIGXFSZ at
 * start; listening makes libuv catch the signal, and removing the last listener sets SIG_DFL.
 */
function restoreDefault(signal: NodeJS.Signals): void {
  if (signal === 'SIGKILL' || signal === 'SIGSTOP') return;
  process.on(signal, noop);
  process.removeAllListeners(signal);
}

/**
 * Replaces this process with the child. The checks execve needs (an executable regular file, a
 * shell for scripts without `#!`, the interpreter present, the environment within the limits) were
 * made when the launch was planned: a failing `process.execve` aborts the process.
 */
function execInto(execve: Execve, plan: LaunchPlan): never {
  // Caught signals become default across exec, ignored ones stay ignored: catch the two Node
  // ignores so the child starts with SIGPIPE and SIGXFSZ at their defaults (`yes | head -1`).
  process.on('SIGPIPE', noop);
  process.on('SIGXFSZ', noop);
  return execve.call(process, plan.file, [...plan.argv], { ...plan.env });
}

/** Ends this process the way the child ended: the same exit code, or death by the same signal. */
function finishLike(code: number | null, signal: NodeJS.Signals | null): void {
  // An exit takes the handlers with it: removing each costs a sigaction round trip through libuv.
  if (signal === null) process.exit(code ?? 125);
  for (const s of [...FORWARDED, ...IGNORED]) process.removeAllListeners(s);
  // node:os only when the child died of a signal.
  const number = process.getBuiltinModule('node:os').constants.signals[signal] ?? 0;
  if (CORE_SIGNALS.has(signal)) process.exit(128 + number);
  restoreDefault(signal);
  process.kill(process.pid, signal);
  // Still here (a signal whose default is to ignore): report it as shells do.
  process.exit(128 + number);
}

/**
 * Starts the child (Node without execve) and stays until it ends: stdio inherited, the terminal's
 * SIGINT/SIGQUIT ignored here (the child gets them from the terminal), SIGTERM, SIGHUP, SIGUSR1 and
 * SIGUSR2 forwarded, job-control signals left alone so both stop and resume together.
 */
function supervise(plan: LaunchPlan): Promise<void> {
  return new Promise<void>(() => {
    const child = spawnChild(plan, {
      onSpawnError(code) {
        const failure = SPAWN_FAILURES[code];
        report(`cannot start ${plan.file}: ${failure?.what ?? code}`, failure?.hint);
        process.exit(failure?.exit ?? 125);
      },
      onExit: finishLike,
    });
    for (const s of IGNORED) process.on(s, noop);
    for (const s of FORWARDED) process.on(s, () => child.kill(s));
  });
}

/** Replaces (execve) or supervises (spawn) this process with the planned child. Never returns normally on success. */
export async function carryOutLaunch(plan: LaunchPlan): Promise<void> {
  const execve = (process as unknown as { execve?: Execve }).execve;
  // A program changed moments ago may still be open for writing: spawn it, so ETXTBSY is reported, not an abort.
  if (typeof execve === 'function' && plan.recentlyChanged !== true) execInto(execve, plan);
  await supervise(plan);
}
