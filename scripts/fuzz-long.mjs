#!/usr/bin/env node
// The long fuzz run: the test/fuzz suite with FUZZ_RUNS cases per property (default 6000, ≥ 100,000 in all), then a table of the figures.
//
// Usage: node scripts/fuzz-long.mjs [CASES_PER_PROPERTY]   (writes .cache/fuzz-long.json and prints a Markdown table)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const perProperty = Number(process.argv[2] ?? process.env.FUZZ_RUNS ?? 6000);
mkdirSync(join(root, '.cache'), { recursive: true });
const statsFile = join(root, '.cache', 'fuzz-long.stats.jsonl');
rmSync(statsFile, { force: true });

const started = Date.now();
const run = spawnSync(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', 'test/fuzz', '--maxWorkers=1'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, FUZZ_RUNS: String(perProperty), FUZZ_STATS: statsFile, FUZZ_TRACE: join(root, '.cache', 'fuzz-long.last-case.txt') },
});
const seconds = Math.round((Date.now() - started) / 1000);

const rows = readFileSync(statsFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const total = rows.reduce((a, r) => a + r.cases, 0);
const summary = { date: new Date().toISOString(), node: process.version, perProperty, properties: rows.length, cases: total, seconds, exitCode: run.status, rows };
writeFileSync(join(root, '.cache', 'fuzz-long.json'), JSON.stringify(summary, null, 2));

console.log(`\n| property | cases | value | typed errors (by code) | most CPU in one case | time |`);
console.log(`|---|---:|---:|---|---:|---:|`);
for (const r of rows) {
  const errs = Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(', ') || '-';
  console.log(`| ${r.name} | ${r.cases} | ${r.ok} | ${errs} | ${r.maxCpuMs ?? r.maxMs} ms | ${(r.ms / 1000).toFixed(1)} s |`);
}
console.log(`\n${total} cases in ${rows.length} properties, ${seconds} s wall time (Node ${process.version}), vitest exit code ${run.status}.`);
process.exitCode = run.status ?? 1;
