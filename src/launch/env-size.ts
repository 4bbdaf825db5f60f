// Checks argv plus environment against the kernel's limits, so an oversized launch is a clear error instead of E2BIG.
import { readFileSync } from 'node:fs';

/** Linux's limit on one argv or environment string (MAX_ARG_STRLEN = 32 pages). */
export const MAX_ARG_STRLEN = 32 * 4096;

/** The size execve counts: every string with its NUL, plus one pointer each. */
export function measureExecSize(argv: readonly string[], env: Readonly<Record<string, string>>): { total: number; largest: { name: string; size: number } } {
  let total = 0;
  for (const a of argv) total += Buffer.byteLength(a) + 1 + 8;
  let largest = { name: '', size: 0 };
  // Keys, not destructured entries: this runs cold on every launch (see validate-config.ts).
  for (const k of Object.keys(env)) {
    const v = env[k]!;
    const size = Buffer.byteLength(k) + 1 + Buffer.byteLength(v) + 1;
    total += size + 8;
    if (size > largest.size) largest = { name: k, size };
  }
  return { total, largest };
}

/**
 * The space execve gives argv plus environment. Linux: a quarter of the stack limit, capped at
 * 6 MiB (3/4 of the 8 MiB default stack) and at least 128 KiB (fs/exec.c); other systems: their
 * usual ARG_MAX (macOS 1 MiB), conservatively.
 */
export function readArgMax(platform: NodeJS.Platform): number {
  if (platform !== 'linux') return platform === 'darwin' ? 1024 * 1024 : 256 * 1024;
  let stack = 8 * 1024 * 1024;
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max stack size'));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft === 'unlimited') stack = Number.POSITIVE_INFINITY;
    else if (soft !== undefined && /^\d+$/.test(soft)) stack = Number(soft);
  } catch {
    /* keep the default */
  }
  return Math.max(MAX_ARG_STRLEN, Math.min(6 * 1024 * 1024, stack / 4));
}
