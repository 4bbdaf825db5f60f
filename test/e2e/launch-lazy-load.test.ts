// The launch fast path loads neither yaml, age-encryption, commander nor keytar (perf, issue 7); its parse cache holds no plaintext.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, NODE, REPO_ROOT } from '../helpers/built-cli.js';
import { ageKeygen, makeSopsFile } from '../helpers/sops-fixture.js';

const CANARY = 'CANARY-lazy-load-5d1c7b';
const META = join(REPO_ROOT, '.cache/build-meta.json');
const dir = mkdtempSync(join(tmpdir(), 'ws-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Libraries the common launch must not load, by their folder under node_modules. */
const HEAVY = ['yaml', 'age-encryption', 'commander', 'keytar', '@noble/post-quantum'];

let config: string;
let env: Record<string, string>;

beforeAll(async () => {
  assertBuilt();
  const { secret, recipient } = ageKeygen();
  const keyFile = join(dir, 'keys.txt');
  writeFileSync(keyFile, `${secret}\n`, { mode: 0o600 });
  const plain = `openai:\n    api_key: ${CANARY}\nother: x\n`;
  const sops = await makeSopsFile({ dir, name: 'secrets.yaml', plain, recipients: [recipient] });
  config = join(dir, 'config.json');
  // JSON, as Home Manager writes it.
  writeFileSync(config, JSON.stringify({ version: 1, identities: [{ file: keyFile }], profiles: { tool: { env: { TOKEN: { sops: sops.path, key: 'openai.api_key' } } } } }));
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { appendFileSync(process.env.WS_TEST_LOAD_LOG, url + '\\n'); return next(url, context); }\n",
  );
  // ESM loads go through the loader hook; `require` (the vendor bundles) through Module._load.
  writeFileSync(
    join(dir, 'register.mjs'),
    [
      "import { appendFileSync } from 'node:fs';",
      "import Module, { register } from 'node:module';",
      "import { pathToFileURL } from 'node:url';",
      `register(${JSON.stringify(pathToFileURL(hooks).href)});`,
      'const load = Module._load;',
      'Module._load = function (request, parent, isMain) {',
      "  try { appendFileSync(process.env.WS_TEST_LOAD_LOG, pathToFileURL(Module._resolveFilename(request, parent, isMain)).href + '\\n'); } catch {}",
      '  return load.apply(this, arguments);',
      '};',
      '',
    ].join('\n'),
  );
  env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(dir, 'home'), XDG_CACHE_HOME: join(dir, 'cache'), XDG_CONFIG_HOME: join(dir, 'config') };
  mkdirSync(env.HOME!, { recursive: true });
});

let runs = 0;

/** Runs the CLI with `args` under the load hooks and returns the files it loaded (relative to the repo). */
function listLoaded(args: readonly string[]): string[] {
  const log = join(dir, `loaded-${++runs}.txt`);
  writeFileSync(log, '');
  const r = spawnSync(NODE, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, CLI, ...args], {
    env: { ...env, WS_TEST_LOAD_LOG: log },
    encoding: 'utf8',
  });
  expect(r.stderr).not.toContain(CANARY);
  expect(r.stdout).not.toContain(CANARY);
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith('file:'))
    .map((u) => decodeURIComponent(new URL(u).pathname).slice(REPO_ROOT.length));
}

/** One launch of the test profile (the child checks that it got the secret). */
const launchAndListLoaded = (_run: number): string[] => listLoaded(['--config', config, '--profile', 'tool', 'sh', '-c', 'test -n "$TOKEN"']);

/** The node_modules packages bundled into each output file, from esbuild's metafile. */
function packagesByOutput(): Map<string, Set<string>> {
  const meta = JSON.parse(readFileSync(META, 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown>; imports: { path: string; external?: boolean }[] }> };
  const out = new Map<string, Set<string>>();
  for (const [file, o] of Object.entries(meta.outputs)) {
    const pkgs = new Set<string>();
    for (const input of [...Object.keys(o.inputs), ...o.imports.filter((i) => i.external).map((i) => `node_modules/${i.path}/`)]) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      if (m) pkgs.add(m[1]!);
    }
    out.set(file, pkgs);
  }
  return out;
}

describe.skipIf(!existsSync(META))('launch fast path: lazy loading and the parse cache', () => {
  it('loads no heavy library on a warm launch (JSON config, YAML sops file via the cache, X25519 key file)', () => {
    const pkgs = packagesByOutput();
    // The detection works: `--help` goes through commander.
    expect(listLoaded(['--help']).flatMap((f) => [...(pkgs.get(f) ?? [])])).toContain('commander');
    // `run --help` looks like a launch but is commander's: the bin must pick the whole CLI, not the launch bundle.
    expect(listLoaded(['run', '--help']).flatMap((f) => [...(pkgs.get(f) ?? [])])).toContain('commander');
    launchAndListLoaded(1); // cold: fills the parse cache
    const loaded = launchAndListLoaded(2);
    expect(loaded.length).toBeGreaterThan(1);
    const heavy = loaded.flatMap((f) => [...(pkgs.get(f) ?? [])].filter((p) => HEAVY.includes(p)).map((p) => `${f}: ${p}`));
    expect(heavy).toEqual([]);
    // No file straight from node_modules either (keytar is external to the bundle).
    expect(loaded.filter((f) => f.includes('node_modules'))).toEqual([]);
  });

  it('loads only the built-in modules a launch needs (no node:module, os, tty, readline, fs/promises, child_process or net)', () => {
    // The preload lists Node's own module list when the process exits, or just before execve replaces it.
    const preload = join(dir, 'builtins.cjs');
    writeFileSync(
      preload,
      [
        "const { writeFileSync } = require('node:fs');",
        'const dump = () => writeFileSync(process.env.WS_TEST_BUILTINS, process.moduleLoadList.join("\\n"));',
        "process.on('exit', dump);",
        'const execve = process.execve;',
        'if (typeof execve === "function") process.execve = function (...a) { dump(); return execve.apply(this, a); };',
        '',
      ].join('\n'),
    );
    const out = join(dir, 'builtins.txt');
    const run = () => spawnSync(NODE, ['-r', preload, CLI, '--config', config, '--profile', 'tool', 'sh', '-c', 'test -n "$TOKEN"'], { env: { ...env, WS_TEST_BUILTINS: out }, encoding: 'utf8' });
    expect(run().status).toBe(0); // warms the caches
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    const loaded = new Set(readFileSync(out, 'utf8').split('\n'));
    // The detection works: node:crypto is what a launch cannot do without.
    expect(loaded.has('NativeModule crypto')).toBe(true);
    // Both ways of starting the child avoid node:child_process: execve, or (Node 20) libuv's process handle.
    const forbidden = ['module', 'os', 'tty', 'readline', 'fs/promises', 'child_process', 'net'];
    expect(forbidden.filter((m) => loaded.has(`NativeModule ${m}`))).toEqual([]);
  });

  it('builds the launch bundle without the commander program or any subcommand', () => {
    const meta = JSON.parse(readFileSync(META, 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
    const launch = Object.keys(meta.outputs['dist/with-secrets-launch.cjs']?.inputs ?? {});
    expect(launch).toContain('src/cli/launch-command.ts');
    expect(launch.filter((f) => f === 'src/cli/program.ts' || f.startsWith('src/cli/commands/'))).toEqual([]);
    expect(Object.keys(meta.outputs['dist/with-secrets-main.cjs']?.inputs ?? {})).toContain('src/cli/program.ts');
  });

  it('keeps only ciphertext in the parse cache (canary)', () => {
    const cacheDir = join(env.XDG_CACHE_HOME!, 'with-secrets');
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) (e.isDirectory() ? walk(join(d, e.name)) : files.push(join(d, e.name)));
    };
    walk(cacheDir);
    expect(files.some((f) => f.includes('parsed'))).toBe(true);
    // The V8 code cache of the bundle lives beside it, private too.
    const v8 = join(cacheDir, 'v8');
    expect(statSync(v8).mode & 0o777).toBe(0o700);
    const entries = readdirSync(v8).filter((f) => f.endsWith('.bin'));
    expect(entries.length).toBeGreaterThan(0);
    for (const f of entries) expect(statSync(join(v8, f)).mode & 0o777).toBe(0o600);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    for (const f of files) expect(readFileSync(f).includes(CANARY)).toBe(false);
  });
});

if (!existsSync(META)) console.warn(`SKIPPED: ${META} missing; run npm run build`);
