// Load: 200 launches of one profile (25 at a time, overlapping), and concurrent `secret set` on one file with launches reading it meanwhile.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorld, runCli, type LaunchWorld } from '../e2e/launch-harness.js';

const CANARY = 'CANARY-load-5Hn2';
const LAUNCHES = 200;
const CONCURRENCY = 25;
const WRITERS = 30;

let w: LaunchWorld;
let secrets = '';
let child = '';

beforeAll(async () => {
  w = makeWorld();
  secrets = await w.sops('secrets.yaml', `api:\n    token: ${CANARY}\n`);
  // The child prints its token and its index, then stays a moment so that the launches overlap.
  child = w.exe(w.bin, 'load-child', '#!/bin/sh\nprintf "%s %s\\n" "$1" "$TOKEN"\nsleep 0.3\n');
  w.config({ version: 1, sopsFile: secrets, profiles: { 'load-child': { command: child, env: { TOKEN: 'api.token' } } } });
});
afterAll(() => w?.cleanup());

/** Runs `jobs` with at most `limit` at once; reports the highest number that were running together. */
async function pool<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<{ results: T[]; peak: number }> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  let running = 0;
  let peak = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      running++;
      peak = Math.max(peak, running);
      try {
        results[i] = await jobs[i]!();
      } finally {
        running--;
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return { results, peak };
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((n) => n !== 'secrets.yaml' && /secrets|\.tmp|\.lock|~$/.test(n));
}

describe('load', () => {
  it(`${LAUNCHES} launches of one profile, ${CONCURRENCY} running at a time: every one gets the right value`, { timeout: 600_000 }, async () => {
    const { results, peak } = await pool(
      Array.from({ length: LAUNCHES }, (_, i) => () => runCli(['load-child', String(i)], { env: w.env(), timeoutMs: 120_000 })),
      CONCURRENCY,
    );
    const failed = results.map((r, i) => ({ i, r })).filter(({ r, i }) => r.code !== 0 || r.stdout !== `${i} ${CANARY}\n`);
    expect(failed.map(({ i, r }) => `${i}: code ${r.code} ${r.stderr.slice(0, 200)}`)).toEqual([]);
    expect(results.every((r) => r.stderr === '')).toBe(true);
    expect(peak).toBe(CONCURRENCY);
    expect(leftovers(w.home)).toEqual([]);
    console.log(`load: ${LAUNCHES} launches, ${CONCURRENCY} at a time (peak ${peak}), all exit 0 with the right value`);
  });

  it(`${WRITERS} concurrent \`secret set\` on one file while launches read it: every key present, no reader sees a torn file`, { timeout: 600_000 }, async () => {
    const writes = Array.from({ length: WRITERS }, (_, i) => () => runCli(['secret', 'set', `k.n${i}`, '--file', secrets], { env: w.env(), input: `value-${i}\n`, timeoutMs: 300_000 }));
    const reads = Array.from({ length: 20 }, (_, i) => () => runCli(['load-child', `r${i}`], { env: w.env(), timeoutMs: 300_000 }));
    const [wr, rd] = await Promise.all([pool(writes, WRITERS), pool(reads, 5)]);
    expect(wr.results.map((r, i) => (r.code === 0 ? 'ok' : `${i}: ${r.code} ${r.stderr}`))).toEqual(new Array(WRITERS).fill('ok'));
    expect(rd.results.map((r, i) => r.stdout === `r${i} ${CANARY}\n` || `${i}: ${r.code} ${r.stderr}`)).toEqual(new Array(20).fill(true));
    const d = await runCli(['decrypt', '--output-type', 'json', secrets], { env: w.env() });
    expect(d.code, d.stderr).toBe(0);
    const doc = JSON.parse(d.stdout) as { k: Record<string, string>; api: { token: string } };
    expect(Object.keys(doc.k)).toHaveLength(WRITERS);
    for (let i = 0; i < WRITERS; i++) expect(doc.k[`n${i}`]).toBe(`value-${i}`);
    expect(doc.api.token).toBe(CANARY);
    expect(leftovers(w.home)).toEqual([]);
    expect(readFileSync(secrets, 'utf8')).not.toContain(CANARY);
  });
});
