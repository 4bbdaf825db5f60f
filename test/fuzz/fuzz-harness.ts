// Shared harness of the fuzz suite: case counts (CI default or FUZZ_RUNS), the 2 s per-case hang guard, the leak check, and run statistics.
import { appendFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { expect } from 'vitest';
import { InternalError, WithSecretsError } from '../../src/errors.js';

/** `FUZZ_RUNS=N` (the long run) replaces every property's CI case count, up to the property's own cap. */
const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? '') || undefined;
/** A file that collects one JSON line per property (cases, failures, time); `scripts/fuzz-long.mjs` sums them. */
const FUZZ_STATS = process.env.FUZZ_STATS;

/** `FUZZ_TRACE=FILE` writes each case's input there before it runs: after a synchronous hang, the file holds the culprit. */
const FUZZ_TRACE = process.env.FUZZ_TRACE;

/**
 * The guard: a case that uses more than this much CPU time is a hang (a guard against runaway
 * input, not a benchmark). CPU time, not wall time, so that a loaded CI machine does not trip it.
 */
export const HANG_MS = 2_000;
/** A case still unfinished after this wall time is stuck (waiting on something that never comes). */
const STUCK_MS = 15_000;

/** Cases for one property: `ci` in CI, `FUZZ_RUNS` (capped by `cap` for slow properties) in the long run. */
export function runs(ci: number, cap = Number.POSITIVE_INFINITY): number {
  return FUZZ_RUNS === undefined ? ci : Math.max(ci, Math.min(FUZZ_RUNS, cap));
}

/** A vitest timeout large enough for `n` cases of a property (each case is bounded by the hang guard in practice). */
export function budget(n: number, perCaseMs = 5): number {
  // The long run shares a loaded machine: give it room; the per-case hang guard still applies.
  return FUZZ_RUNS === undefined ? 30_000 + n * perCaseMs : 120_000 + n * perCaseMs * 10;
}

/** Every string of `err` a user or a log could see: message, hint, and the cause when it is ours. */
function visibleText(err: WithSecretsError): string {
  const cause = err.cause instanceof WithSecretsError ? `${err.cause.message} ${err.cause.hint ?? ''}` : '';
  return `${err.message}\n${err.hint ?? ''}\n${cause}\n${err.stack ?? ''}`;
}

/**
 * The verdict on one thrown value: a {@link WithSecretsError} (not an {@link InternalError}),
 * with a code from `allowed` when given, whose visible text holds none of `secrets`.
 */
export function expectSafeError(e: unknown, secrets: readonly string[] = [], allowed?: readonly string[]): WithSecretsError {
  if (!(e instanceof WithSecretsError) || e instanceof InternalError) {
    // Show what escaped (class and message) so the defect is easy to find; the message is from test input only.
    throw new Error(`not a typed error: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
  }
  if (allowed !== undefined) expect(allowed).toContain(e.code);
  const text = visibleText(e);
  for (const s of secrets) if (s.length > 0) expect(text.includes(s), `error text leaks a secret (${s.slice(0, 12)}…): ${e.code}: ${e.message}`).toBe(false);
  return e;
}

/** Statistics of one property run. */
interface Stats {
  cases: number;
  ok: number;
  errors: Record<string, number>;
  maxMs: number;
  maxCpuMs: number;
}

/** Runs `f` once under the hang guard and records its outcome; returns its value or undefined when it threw a safe error. */
async function guarded<T>(stats: Stats, secrets: readonly string[], allowed: readonly string[] | undefined, f: () => T | Promise<T>): Promise<T | undefined> {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let timer: NodeJS.Timeout | undefined;
  try {
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`hang: a case was still running after ${STUCK_MS} ms`)), STUCK_MS);
    });
    // A synchronous runaway cannot be interrupted in-process; the elapsed check below catches it once it returns.
    const value = await Promise.race([Promise.resolve().then(f), hang]);
    stats.ok++;
    return value;
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('hang:')) throw e;
    const err = expectSafeError(e, secrets, allowed);
    stats.errors[err.code] = (stats.errors[err.code] ?? 0) + 1;
    return undefined;
  } finally {
    clearTimeout(timer);
    const cpu = process.cpuUsage(cpuStart);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    stats.cases++;
    stats.maxMs = Math.max(stats.maxMs, performance.now() - start);
    stats.maxCpuMs = Math.max(stats.maxCpuMs, cpuMs);
    if (cpuMs > HANG_MS) throw new Error(`hang: a case used ${Math.round(cpuMs)} ms of CPU (guard ${HANG_MS} ms)`);
  }
}

/** What a property checks beyond "typed error or value". */
export interface FuzzSpec<A, T> {
  /** Property name (for statistics). */
  readonly name: string;
  readonly arb: fc.Arbitrary<A>;
  readonly run: (input: A) => T | Promise<T>;
  /** Canary values and key material that no error text may contain (a function when they depend on the input). */
  readonly secrets?: readonly string[] | ((input: A) => readonly string[]);
  /** Error codes this parser may give (default: any code but `internal`). */
  readonly allowed?: readonly string[];
  /** Checks a successful result (correctness, e.g. the value is the original). */
  readonly check?: (result: T, input: A) => void;
  readonly numRuns: number;
  readonly seed?: number;
}

/** Runs one fuzz property: every case ends in a value (checked) or a safe typed error, within the hang guard. */
export async function fuzz<A, T>(spec: FuzzSpec<A, T>): Promise<void> {
  const stats: Stats = { cases: 0, ok: 0, errors: {}, maxMs: 0, maxCpuMs: 0 };
  const started = performance.now();
  try {
    await fc.assert(
      fc.asyncProperty(spec.arb, async (input) => {
        if (FUZZ_TRACE !== undefined) writeFileSync(FUZZ_TRACE, `${spec.name}\n${fc.stringify(input)}\n`);
        const secrets = typeof spec.secrets === 'function' ? spec.secrets(input) : (spec.secrets ?? []);
        const result = await guarded(stats, secrets, spec.allowed, () => spec.run(input));
        if (result !== undefined && spec.check) spec.check(result, input);
      }),
      { numRuns: spec.numRuns, ...(spec.seed === undefined ? {} : { seed: spec.seed }), endOnFailure: true },
    );
  } finally {
    if (FUZZ_STATS !== undefined) {
      appendFileSync(FUZZ_STATS, `${JSON.stringify({ name: spec.name, ...stats, ms: Math.round(performance.now() - started), maxMs: Math.round(stats.maxMs), maxCpuMs: Math.round(stats.maxCpuMs) })}\n`);
    }
  }
}

/** A recognisable secret string that must never show up in output. */
export const CANARY = 'CANARY-fz-7Qk2vX9pL';
