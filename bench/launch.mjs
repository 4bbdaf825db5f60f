// The launch benchmark (`npm run bench`): with-secrets against bare Node, dotenvx and age, alternating, in one run.
//
// Usage: node bench/launch.mjs [--rounds N] [--rss-rounds N] [--node PATH]… [--no-build] [--dist DIR] [--write FILE]… [--keep] [--only ID,…]
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
/**
 * The do-nothing launcher of the `launcher` row: node:crypto, then /bin/true started as with-secrets starts it
 * (src/cli/carry-out.ts): execve where Node has it, else libuv's process handle, waiting for the child.
 */
const LAUNCHER_FLOOR = [
  "require('node:crypto');",
  "if (typeof process.execve === 'function') process.execve('/bin/true', ['/bin/true'], process.env);",
  "const { Process } = process.binding('process_wrap'); const p = new Process();",
  'p.onexit = (c) => { p.close(); process.exit(c); };',
  "p.spawn({ file: '/bin/true', args: ['/bin/true'], envPairs: Object.entries(process.env).map(([k, v]) => k + '=' + v), stdio: [0, 1, 2].map((fd) => ({ type: 'fd', fd })) });",
].join(' ');

function parseArgs(argv) {
  const opts = { rounds: 30, rssRounds: 5, nodes: [], build: true, write: [], keep: false, only: undefined, dist: join(ROOT, 'dist') };
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
    else if (a === '--write') opts.write.push(resolve(value()));
    else if (a === '--keep') opts.keep = true;
    else if (a === '--only') opts.only = value().split(',');
    else if (a === '--dist') opts.dist = resolve(value());
    else if (a === '-h' || a === '--help') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(0, 5).join('\n').replace(/^\/\/ ?/gm, ''));
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!(opts.rounds >= 1) || !(opts.rssRounds >= 0)) throw new Error('--rounds must be ≥ 1 and --rss-rounds ≥ 0');
  if (opts.only !== undefined && opts.write.length > 0) throw new Error('--write needs the whole report: leave out --only');
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
    for (const file of opts.write) {
      writeReport(file, report);
      process.stderr.write(`wrote the report into ${file}\n`);
    }
    if (!t.allPass) process.exitCode = 1;
  } finally {
    if (opts.keep) process.stderr.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** Where the report goes in a file: between these two lines (README.md and bench/RESULTS.md have them). */
const BEGIN = '<!-- bench:begin (written by npm run bench -- --write FILE) -->';
const END = '<!-- bench:end -->';

/** Replaces the report between the markers in `file`; a file without them is an error, not overwritten. */
function writeReport(file, report) {
  const text = readFileSync(file, 'utf8');
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END, a);
  if (a < 0 || b < 0) throw new Error(`${file} has no ${BEGIN} … ${END} block to write the report into`);
  writeFileSync(file, `${text.slice(0, a + BEGIN.length)}\n${report}\n${text.slice(b)}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
});
