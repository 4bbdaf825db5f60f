// The launch benchmark (`npm run bench`): with-secrets against bare Node, dotenvx and age, alternating, in one run.
//
// Usage: node bench/launch.mjs [--rounds N] [--rss-rounds N] [--node PATH]… [--no-build] [--dist DIR] [--write FILE] [--keep] [--only ID,…]
// Every command runs with NODE_EXTRA_CA_CERTS removed from its environment: Node 20 reads that file at every
// start (~40 ms here), which would hide the differences this benchmark is about.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFixtures } from './fixtures.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOTENVX = join(ROOT, 'node_modules/@dotenvx/dotenvx/src/cli/dotenvx.js');
const NODE22 = join(ROOT, '.cache/node22/node_modules/node/bin/node');
const TIME = '/usr/bin/time';
/** The do-nothing launcher of the `launcher` row. */
const LAUNCHER_FLOOR = [
  "require('node:crypto');",
  "if (typeof process.execve === 'function') process.execve('/bin/true', ['/bin/true'], process.env);",
  "else require('node:child_process').spawn('/bin/true', [], { stdio: 'inherit' }).on('exit', (c) => process.exit(c ?? 1));",
].join(' ');

function parseArgs(argv) {
  const opts = { rounds: 30, rssRounds: 5, nodes: [], build: true, write: undefined, keep: false, only: undefined, dist: join(ROOT, 'dist') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--rounds') opts.rounds = Number(value());
    else if (a === '--rss-rounds') opts.rssRounds = Number(value());
    else if (a === '--node') opts.nodes.push(resolve(value()));
    else if (a === '--no-build') opts.build = false;
    else if (a === '--write') opts.write = resolve(value());
    else if (a === '--keep') opts.keep = true;
    else if (a === '--only') opts.only = value().split(',');
    else if (a === '--dist') opts.dist = resolve(value());
    else if (a === '-h' || a === '--help') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(0, 5).join('\n').replace(/^\/\/ ?/gm, ''));
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!(opts.rounds >= 1) || !(opts.rssRounds >= 0)) throw new Error('--rounds must be ≥ 1 and --rss-rounds ≥ 0');
  if (opts.nodes.length === 0) {
    opts.nodes.push(process.execPath);
    if (existsSync(NODE22)) opts.nodes.push(NODE22);
  }
  return opts;
}

/** The environment every command gets: ours without NODE_EXTRA_CA_CERTS or any sops/with-secrets input. */
function baseEnv(extra) {
  const env = { ...process.env, ...extra };
  for (const name of Object.keys(env)) {
    if (name === 'NODE_EXTRA_CA_CERTS' || name === 'NODE_OPTIONS' || name.startsWith('SOPS_') || name.startsWith('WITH_SECRETS_') || name.startsWith('DOTENV_')) {
      delete env[name];
    }
  }
  return { ...env, ...extra };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Runs a command once; returns wall time in ms, or throws with its stderr when it fails. */
function timeOnce(cmd) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd.argv[0], cmd.argv.slice(1), { env: cmd.env, cwd: cmd.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd.label}: exit ${r.status ?? r.signal}\n${r.stderr}`);
  return ms;
}

/**
 * CPU time (user + sys, ms) of one run, from bash's `times` (children's line, millisecond resolution):
 * on a shared machine it varies far less than the wall clock.
 */
function cpuOnce(cmd) {
  // --norc and stdin not a socket: Debian's bash sources ~/.bashrc when stdin is a socket (as if run by
  // sshd), and that file's children (pyenv init here: ~110 ms) would count as the command's CPU time.
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', '"$@" </dev/null >/dev/null 2>&1; s=$?; times; exit $s', 'bench', ...cmd.argv], {
    env: cmd.env,
    cwd: cmd.cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`${cmd.label}: exit ${r.status ?? r.signal} under bash`);
  const children = r.stdout.trim().split('\n').pop().split(/\s+/);
  const ms = (t) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(t);
    return m ? (Number(m[1]) * 60 + Number(m[2])) * 1000 : NaN;
  };
  return ms(children[0]) + ms(children[1]);
}

/** Peak RSS (KiB) of a command and the processes it waited for, from GNU time's %M. */
function rssOnce(cmd, outFile) {
  const r = spawnSync(TIME, ['-f', '%M', '-o', outFile, ...cmd.argv], { env: cmd.env, cwd: cmd.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd.label}: exit ${r.status ?? r.signal} under ${TIME}\n${r.stderr}`);
  return Number(readFileSync(outFile, 'utf8').trim().split('\n').pop());
}

function nodeVersion(node) {
  return spawnSync(node, ['--version'], { encoding: 'utf8', env: baseEnv({}) }).stdout.trim();
}

function commandsFor(node, fx, cli) {
  const wsEnv = baseEnv({ HOME: fx.home, XDG_CACHE_HOME: fx.cacheHome, XDG_CONFIG_HOME: join(fx.home, '.config') });
  const ws = (profile) => [node, cli, '--config', fx.config, '--profile', profile, '/bin/true'];
  const cmds = [
    { id: 'true', label: '`/bin/true`', argv: ['/bin/true'], env: baseEnv({}) },
    { id: 'node', label: '`node -e 0` (the floor)', argv: [node, '-e', '0'], env: baseEnv({}) },
    // What any launcher written for Node pays before doing its job: node:crypto loaded and /bin/true started
    // the way with-secrets starts it (execve where this Node has it, else spawn and wait).
    { id: 'launcher', label: 'a Node launcher that does nothing: node:crypto, then start `/bin/true`', argv: [node, '-e', LAUNCHER_FLOOR], env: baseEnv({}) },
    { id: 'ws10', label: 'with-secrets, 10 secrets (YAML, X25519 key file)', argv: ws('ten'), env: wsEnv },
    { id: 'ws1000', label: `with-secrets, 1,000-key file (${fx.sizes.thousand})`, argv: ws('thousand'), env: wsEnv },
    { id: 'ws10mb', label: `with-secrets, ${fx.sizes.big} file`, argv: ws('big'), env: wsEnv },
    { id: 'ws10noparse', label: 'with-secrets, 10 secrets, no parse cache', argv: ws('ten'), env: { ...wsEnv, XDG_CACHE_HOME: fx.noParseCacheHome } },
    { id: 'ws10cold', label: 'with-secrets, 10 secrets, no cache at all', argv: ws('ten'), env: { ...wsEnv, XDG_CACHE_HOME: fx.noCacheHome } },
    { id: 'dotenvx', label: '`dotenvx run` (encrypted .env, 10 secrets)', argv: [node, DOTENVX, 'run', '-f', fx.dotenv, '--', '/bin/true'], env: baseEnv({}), cwd: fx.dotenvDir },
    { id: 'age', label: '`age -d` of the data key (native floor)', argv: ['age', '-d', '-i', fx.keyFile, '-o', '/dev/null', fx.ageFile], env: baseEnv({}) },
  ];
  return cmds;
}

function measure(cmds, rounds, rssRounds, scratch) {
  const times = new Map(cmds.map((c) => [c.id, []]));
  const cpu = new Map(cmds.map((c) => [c.id, []]));
  const rss = new Map(cmds.map((c) => [c.id, []]));
  // Warm-up: page cache, the parse cache and the code cache are filled before anything counts.
  for (let i = 0; i < 2; i++) for (const c of cmds) timeOnce(c);
  for (let r = 0; r < rounds; r++) {
    for (const c of cmds) times.get(c.id).push(timeOnce(c));
    for (const c of cmds) cpu.get(c.id).push(cpuOnce(c));
    process.stderr.write(`\r  round ${r + 1}/${rounds}`);
  }
  process.stderr.write('\n');
  const hasTime = existsSync(TIME);
  if (hasTime) {
    for (let r = 0; r < rssRounds; r++) for (const c of cmds) rss.get(c.id).push(rssOnce(c, join(scratch, 'rss.txt')));
  }
  return cmds.map((c) => {
    const t = times.get(c.id);
    const m = rss.get(c.id);
    return { ...c, median: median(t), min: Math.min(...t), max: Math.max(...t), cpu: median(cpu.get(c.id)), rssKiB: m.length ? median(m) : undefined };
  });
}

const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

function table(results) {
  const lines = [
    '| Node | command | median ms | min–max ms | × `node -e 0` | CPU ms | CPU × node | peak RSS MiB | RSS × node |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const { version, rows } of results) {
    const floor = rows.find((r) => r.id === 'node');
    for (const r of rows) {
      const ratio = r.median / floor.median;
      const rssRatio = r.rssKiB !== undefined && floor.rssKiB ? (r.rssKiB / floor.rssKiB).toFixed(2) : '–';
      const rssMiB = r.rssKiB !== undefined ? (r.rssKiB / 1024).toFixed(1) : '–';
      const cpuRatio = (r.cpu / floor.cpu).toFixed(2);
      lines.push(`| ${version} | ${r.label} | ${fmt(r.median)} | ${fmt(r.min)}–${fmt(r.max)} | ${ratio.toFixed(2)} | ${fmt(r.cpu)} | ${cpuRatio} | ${rssMiB} | ${rssRatio} |`);
    }
  }
  return lines.join('\n');
}

function targets(results) {
  const lines = [];
  let allPass = true;
  for (const { version, rows } of results) {
    const get = (id) => rows.find((r) => r.id === id);
    const node = get('node');
    const checks = [
      ['10-secret launch ≤ 1.5× node -e 0', get('ws10').median / node.median, (x) => x <= 1.5, (x) => `${x.toFixed(2)}×`],
      ['1,000-key launch ≤ 2× node -e 0', get('ws1000').median / node.median, (x) => x <= 2, (x) => `${x.toFixed(2)}×`],
      ['10 MB file < 1 s', get('ws10mb').median, (x) => x < 1000, (x) => `${fmt(x)} ms`],
      ['≥ 10× faster than dotenvx run', get('dotenvx').median / get('ws10').median, (x) => x >= 10, (x) => `${x.toFixed(1)}×`],
    ];
    if (get('ws10').rssKiB !== undefined) {
      checks.push(['peak RSS ≤ 1.5× node -e 0', get('ws10').rssKiB / node.rssKiB, (x) => x <= 1.5, (x) => `${x.toFixed(2)}×`]);
    }
    // The same ratios on CPU time, which a busy machine disturbs much less than the wall clock.
    const cpuOf = { 'ws10': get('ws10').cpu / node.cpu, 'ws1000': get('ws1000').cpu / node.cpu, 'ws10mb': get('ws10mb').cpu, 'dotenvx': get('dotenvx').cpu / get('ws10').cpu };
    const cpuShown = [`${cpuOf.ws10.toFixed(2)}×`, `${cpuOf.ws1000.toFixed(2)}×`, `${fmt(cpuOf.ws10mb)} ms`, `${cpuOf.dotenvx.toFixed(1)}×`];
    checks.forEach(([name, value, ok, show], i) => {
      const pass = ok(value);
      allPass &&= pass;
      lines.push(`- ${pass ? 'PASS' : 'FAIL'} (${version}) ${name}: ${show(value)}${i < 4 ? ` (CPU time: ${cpuShown[i]})` : ''}`);
    });
    // Linear growth: cost per MB of file beyond the 10-secret case.
    const perMb = (get('ws10mb').median - get('ws10').median) / (get('ws10mb').fileBytes / 1e6);
    lines.push(`- info (${version}) cost per MB of sops file: ${perMb.toFixed(0)} ms/MB`);
    const launcher = get('launcher');
    if (launcher !== undefined) {
      lines.push(`- info (${version}) a Node launcher that does nothing (node:crypto, then start /bin/true) is already ${(launcher.median / node.median).toFixed(2)}× (CPU ${(launcher.cpu / node.cpu).toFixed(2)}×); with-secrets' own work on a 10-secret launch: ${fmt(get('ws10').median - launcher.median)} ms (CPU ${fmt(get('ws10').cpu - launcher.cpu)} ms)`);
    }
  }
  return { text: lines.join('\n'), allPass };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.build) {
    const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('build failed');
  }
  const cli = join(opts.dist, 'with-secrets.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build`);
  const dir = mkdtempSync(join(tmpdir(), 'ws-bench-'));
  try {
    process.stderr.write(`fixtures in ${dir}\n`);
    const fx = await makeFixtures(dir, { lib: join(opts.dist, 'lib'), dotenvx: DOTENVX, env: baseEnv({}) });
    const results = [];
    for (const node of opts.nodes) {
      const version = nodeVersion(node);
      process.stderr.write(`Node ${version} (${node})\n`);
      const cmds = commandsFor(node, fx, cli)
        .filter((c) => opts.only === undefined || c.id === 'node' || opts.only.includes(c.id))
        .map((c) => ({ ...c, fileBytes: fx.bytes[c.id] }));
      results.push({ version, rows: measure(cmds, opts.rounds, opts.rssRounds, dir) });
    }
    const t = opts.only === undefined ? targets(results) : { text: '(targets need every command; --only was given)', allPass: true };
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    const report = [
      `Machine: ${cpu}, ${cpus().length} cores, Linux ${release()}; ${opts.rounds} alternating rounds (${opts.rssRounds} for RSS) after 2 warm-up rounds; ${new Date().toISOString().slice(0, 10)}.`,
      'NODE_EXTRA_CA_CERTS (and NODE_OPTIONS, SOPS_*, DOTENV_*) unset for every command. Wall time: median of the rounds; CPU: user+sys of the',
      "process tree (bash `times`), median; peak RSS: GNU time %M (the wrapper's own peak; /bin/true is smaller).",
      '',
      table(results),
      '',
      'Targets:',
      t.text,
    ].join('\n');
    console.log(report);
    if (opts.write) {
      writeFileSync(opts.write, resultsPage(report));
      process.stderr.write(`wrote ${opts.write}\n`);
    }
    if (!t.allPass) process.exitCode = 1;
  } finally {
    if (opts.keep) process.stderr.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function resultsPage(report) {
  return `# Launch benchmark

The latest run of \`npm run bench\` (\`node bench/launch.mjs\`). It makes its fixtures in a temporary
directory (an age key, sops YAML files of 10 secrets, 1,000 keys and about 10 MB, a Home Manager style
JSON config, an encrypted .env for dotenvx), then runs every command alternately (A B C … A B C …)
so that noise hits all of them alike, and reports medians.

${report}

## What made the launch cheaper (issue 7's levers)

CPU time of the 10-secret launch on Node 20 unless noted (quiet machine, \`node -e 0\` ≈ 22 ms), measured while
building this; each step on top of the previous one:

| lever | 10 secrets | notes |
|---|---:|---|
| start: esbuild ESM chunks (36 files on the launch path) | ~82 ms | yaml, age-encryption, commander already not loaded on a warm launch |
| one ESM file for all of src/, yaml/commander/age-encryption as lazily \`require\`d CommonJS files | ~64 ms | Node's ESM loader costs ~0.25 ms per module |
| the CLI as CommonJS run through \`vm.Script\` with a V8 code cache (0600 files in a 0700 dir), CommonJS bin | ~48 ms | the cache holds every function the run compiled (written at exit, or just before execve); the "no cache at all" row shows a first run |
| X25519 unwrap on node:crypto (CCTV-tested) | — | the launch never loads age-encryption (~300 KB with its curve and ML-KEM code) |
| parse cache of the still-encrypted document | ±0 | since the YAML store's fast reader: 1,000 keys 131 → 112 ms, 10 MB 878 → 759 ms |
| value codec without extra copies | — | 10 MB: 816 → 736 ms |
| Node 22's \`module.enableCompileCache\` | ±0 on launch | covers the vendor files only (\`--help\` loads commander) |
| verified-MAC memo in the parse-cache entry (src/sops/mac-memo.ts, SECURITY.md) | ±0 | 1,000 keys: 99 → 55 ms; 10 MB: ~750 → ~240 ms wall. After a full MAC check, an HMAC under HKDF(data key) over the file's SHA-256, the stored parse's SHA-256 and the path; a launch on the same bytes decrypts only the values the profile names |
| node:tty (and node:net) only when needed; node:child_process only on the spawn path | ~−1 ms (22: ~−2 ms) | with execve a launch loads no net, tty, dgram or child_process |
| X25519 keys into node:crypto as JWK, not PKCS#8/SPKI DER | ~−1.5 ms | OpenSSL 3's DER decoder framework is slow on first use; the JWK path builds the key from raw bytes |
| the CLI bundle as pure ASCII | ~−1 ms | a \`…\` in a kept comment made V8 hold the 430 KB source as a two-byte string |
| no node:fs/promises on the launch path | ~−0.8 ms | it loads readline, fs watchers and more; the launch uses synchronous fs calls |
| a launch-only bundle: a launch runs \`dist/with-secrets-launch.cjs\` (254 KB: no commander program, no subcommands), everything else \`dist/with-secrets-main.cjs\` (438 KB); \`src/cli/route.ts\` is the one decision the bin and cli.ts share | ~−1 ms (22: ~−1 ms) | reading the source plus deserialising the code cache (\`new vm.Script\`), in-process medians of 15 runs: Node 20 3.6 → 2.5 ms, Node 22 3.1 → 2.1 ms; cache entry 291 → 248 KB (22: 273 → 227 KB). 100 alternating rounds against the previous build, CPU median / p25: Node 20 47.0 / 44 → 46.5 / 43 ms (1,000 keys 53.0 / 49 → 51.0 / 48), Node 22 44.0 / 41 → 43.0 / 40 ms (48.5 / 46 → 48.0 / 44). GC unchanged: still one scavenge, since the source string lives in large-object space and the young generation sees the same allocations |

The five new rows together, measured as the wrapper's own CPU time up to execve/spawn (30 alternating runs against
the previous build, loaded machine): Node 20 min 51.3 → 44.7 ms, Node 22 min 44.0 → 38.7 ms (p25 61.9 → 58.9 and
51.6 → 42.5 ms). In the table: 10 secrets 53 → 45 ms CPU on Node 20, 44 → 38 ms on Node 22; 1,000 keys 103 → 50 and 82 → 42 ms.

Not reached: 1.5× on the 10-secret launch (Node 22 1.61× wall, 1.67× CPU; Node 20 1.87× wall, 2.00× CPU), 2× on 1,000 keys
on Node 20 (2.08× wall, 2.23× CPU; Node 22 passes at 1.74×), and 10× on dotenvx by wall time (8.9–9.5×; by CPU time 11.4–11.6×,
a pass). The previous table (before the launch-only bundle, same machine): 10 secrets 2.09× / 1.69× wall, 2.05× / 1.73× CPU
(Node 20 / 22); 1,000 keys 2.33× / 1.87× wall, 2.25× / 1.91× CPU. Most of that difference is the floor and run-to-run noise
(two other 30-round runs of this build on a busier machine gave Node 20 10-secret CPU medians of 45.0 and 44.5 ms); the ~1 ms
the launch-only bundle saves is the row above. What a warm 10-secret launch still spends above \`node -e 0\`
(\`--cpu-prof\`, Node 22): node:crypto with the stream modules it loads itself, ~4–5 ms; deserialising the V8 code
cache of the bundle (\`new vm.Script\`; ~4–5 ms under the profiler for the whole-CLI bundle, ~2 ms measured in-process for the
launch bundle); first use of OpenSSL (X25519 key import, first hash and
cipher), ~2–3 ms; one young-generation GC, ~1–1.5 ms (the semi-space is 1 MB:
\`node -e 0\` fills ~350 KB of it, the bin with node:crypto ~200 KB more, our modules up to opening the sops file ~350 KB
more, and the scavenge comes just after that, before carry-out; what the rest of the launch would still allocate was not measured); our own cold JavaScript (config validation, key file,
unwrap, decrypting and walking the tree), ~5 ms. On Node 20, starting the child with spawn (node:child_process and
the wait) adds ~5 ms. None of these has a clean lever left: the code cache already saves ~15 ms over compiling, and
a startup snapshot needs a node flag the bin cannot pass.

## Reproduce

\`\`\`sh
bash scripts/install-test-deps.sh   # age, Node 22 under .cache/node22, npm packages (dotenvx)
npm run bench                       # Node 20 (this one) and Node 22; --rounds N, --node PATH, --write FILE
\`\`\`

\`with-secrets\` runs as \`node dist/with-secrets.js --config CONFIG --profile P /bin/true\`: on Node ≥ 22.15 it
replaces itself with the child (execve), on Node 20 it spawns it and waits. Its parse cache lives in the
benchmark's temporary \`XDG_CACHE_HOME\`, as does the V8 code cache of the bundle; both are warm after the warm-up
rounds, except in the "no parse cache" row (parse cache unusable) and the "no cache at all" row (the cache home is a
file: every run is a first run, which is also what a user sees once after each upgrade).
`;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
});
