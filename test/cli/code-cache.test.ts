// The bin's code cache: a private directory, entries written once and accepted afterwards, never from a directory others can write.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMONJS_WRAPPER_HEAD, privateCacheDir, wrapCommonJs } from '../../src/cli/code-cache.js';
import { CLI, NODE } from '../helpers/built-cli.js';

const root = mkdtempSync(join(tmpdir(), 'ws-code-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const uid = process.getuid?.() ?? -1;

describe('privateCacheDir', () => {
  it('makes $XDG_CACHE_HOME/with-secrets/v8 with mode 0700', () => {
    const dir = privateCacheDir({ XDG_CACHE_HOME: join(root, 'a') }, '/nonexistent', uid);
    expect(dir).toBe(join(root, 'a', 'with-secrets', 'v8'));
    expect(statSync(dir!).mode & 0o777).toBe(0o700);
  });

  it('refuses a directory others can write (its files become code)', () => {
    const dir = join(root, 'b', 'with-secrets', 'v8');
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    expect(privateCacheDir({ XDG_CACHE_HOME: join(root, 'b') }, '/nonexistent', uid)).toBeUndefined();
  });

  it('makes ~/.cache/with-secrets/v8 in an existing home, but never makes the home directory itself', () => {
    const home = join(root, 'home');
    mkdirSync(home);
    expect(privateCacheDir({}, home, uid)).toBe(join(home, '.cache', 'with-secrets', 'v8'));
    // A HOME that is not there (a Nix builder's /homeless-shelter): no cache, and nothing made.
    const gone = join(root, 'gone', 'home');
    expect(privateCacheDir({ XDG_CACHE_HOME: 'relative/is/ignored' }, gone, uid)).toBeUndefined();
    expect(existsSync(join(root, 'gone'))).toBe(false);
  });

  it('gives up quietly when the directory cannot be made', () => {
    writeFileSync(join(root, 'file'), '');
    expect(privateCacheDir({ XDG_CACHE_HOME: join(root, 'file') }, '/nonexistent', uid)).toBeUndefined();
  });
});

// The module runs in a child process, as the bin runs it: bundled by esbuild (as scripts/build.mjs does).
const runner = join(root, 'code-cache.mjs');
beforeAll(async () => {
  const { build } = await import('esbuild');
  await build({ entryPoints: [join(process.cwd(), 'src/cli/code-cache.ts')], outfile: runner, bundle: true, platform: 'node', format: 'esm', logLevel: 'silent' });
});

/** Runs `file` through runWithCodeCache in a fresh Node with these options (JSON) and environment additions. */
function runCached(file: string, options: Record<string, unknown>, env: Record<string, string> = {}) {
  const code = `const m = await import(${JSON.stringify(pathToFileURL(runner).href)}); m.runWithCodeCache(${JSON.stringify(file)}, ${JSON.stringify({ uid, ...options })});`;
  return spawnSync(NODE, ['--no-warnings', '--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, ...env } });
}

describe('runWithCodeCache', () => {
  const run = (file: string, cacheDir: string) => runCached(file, { dir: cacheDir });

  it('runs the file with CommonJS globals and writes one 0600 cache entry, then reuses it', () => {
    const file = join(root, 'prog.cjs');
    writeFileSync(file, "#!/usr/bin/env node\nconst p = require('node:path');\nprocess.stdout.write(p.basename(__filename) + ' ' + typeof module.exports + ' ' + (function f(x) { return x * 2; })(21));\n");
    const cacheDir = join(root, 'cache');
    mkdirSync(cacheDir, { mode: 0o700 });
    // An entry of an older build for the same Node and kind of run goes; one for another Node, or for
    // another kind of run (the other bundle's), stays.
    const nodeTag = spawnSync(NODE, ['-p', 'process.version + "-" + process.arch'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(join(cacheDir, `${nodeTag}-oldbuild-any.bin`), 'x');
    writeFileSync(join(cacheDir, 'v1.0.0-x64-other.bin'), 'x');
    writeFileSync(join(cacheDir, `${nodeTag}-otherbundle-launch.bin`), 'x');
    const first = run(file, cacheDir);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe('prog.cjs object 42');
    expect(readdirSync(cacheDir)).toContain(`${nodeTag}-otherbundle-launch.bin`);
    const entries = readdirSync(cacheDir).filter((f) => f.startsWith(nodeTag) && !f.includes('otherbundle'));
    expect(entries).toHaveLength(1);
    expect(entries[0]).not.toContain('oldbuild');
    expect(readdirSync(cacheDir)).toContain('v1.0.0-x64-other.bin');
    expect(statSync(join(cacheDir, entries[0]!)).mode & 0o777).toBe(0o600);
    const second = run(file, cacheDir);
    expect(second.stdout).toBe('prog.cjs object 42');
    expect(readdirSync(cacheDir).filter((f) => f.startsWith(nodeTag) && !f.includes('otherbundle'))).toEqual(entries);
  });
});

describe('pre-wrapped bundles', () => {
  it('runs a file that already holds the CommonJS wrapper as it is, not wrapped twice', () => {
    const file = join(root, 'wrapped.cjs');
    writeFileSync(file, wrapCommonJs("process.stdout.write(require('node:path').basename(__filename) + ' ' + typeof exports);"));
    expect(readFileSync(file, 'utf8').startsWith(COMMONJS_WRAPPER_HEAD)).toBe(true);
    const cacheDir = join(root, 'cache-wrapped');
    mkdirSync(cacheDir, { mode: 0o700 });
    for (let i = 0; i < 2; i++) {
      const r = runCached(file, { dir: cacheDir });
      expect(r.stderr).toBe('');
      // Wrapped twice, the outer function would only define the inner one and print nothing.
      expect(r.stdout).toBe('wrapped.cjs object');
    }
  });

  it('the build writes both bundles inside the same wrapper head the bin looks for', () => {
    for (const name of ['with-secrets-launch.cjs', 'with-secrets-main.cjs']) {
      const text = readFileSync(join(dirname(CLI), name), 'latin1');
      expect(text.startsWith(COMMONJS_WRAPPER_HEAD), name).toBe(true);
      expect(text.endsWith('\n});'), name).toBe(true);
    }
  });
});

describe('a representative run writes the cache', () => {
  const file = join(root, 'deferral.cjs');
  const watched = join(root, 'watched');
  const cacheDir = join(root, 'cache-deferral');
  // The program takes the "cold path" (writes into the watched directory) or fails when told to.
  beforeAll(() => {
    writeFileSync(file, "const fs = require('node:fs');\nif (process.env.COLD) fs.writeFileSync(require('node:path').join(process.env.WATCHED, String(Date.now()) + Math.random()), 'x');\nprocess.exitCode = Number(process.env.FAIL ?? 0);\n");
    mkdirSync(watched);
    mkdirSync(cacheDir, { mode: 0o700 });
  });
  const run = (env: Record<string, string>) => runCached(file, { dir: cacheDir, variant: 'launch', coldPathWrites: watched }, { WATCHED: watched, ...env });
  const entries = () => readdirSync(cacheDir).filter((f) => f.endsWith('-launch.bin'));
  const marker = () => readdirSync(cacheDir).find((f) => f.endsWith('-launch.bin.deferred'));

  it('a run that takes the cold path or fails leaves a marker instead; the next plain run writes the entry', () => {
    expect(run({ COLD: '1' }).status).toBe(0);
    expect(entries()).toEqual([]);
    expect(statSync(join(cacheDir, marker()!)).size).toBe(1);
    expect(run({ FAIL: '3' }).status).toBe(3);
    expect(entries()).toEqual([]);
    expect(statSync(join(cacheDir, marker()!)).size).toBe(2);
    expect(run({}).status).toBe(0);
    expect(entries()).toHaveLength(1);
    expect(marker()).toBeUndefined();
    expect(statSync(join(cacheDir, entries()[0]!)).mode & 0o777).toBe(0o600);
  });

  it('after four unrepresentative runs in a row, the fifth writes anyway (a setup whose every run is cold still gets a cache)', () => {
    rmSync(cacheDir, { recursive: true });
    mkdirSync(cacheDir, { mode: 0o700 });
    for (let i = 1; i <= 4; i++) {
      expect(run({ COLD: '1' }).status).toBe(0);
      expect(entries(), `run ${i}`).toEqual([]);
    }
    expect(run({ COLD: '1' }).status).toBe(0);
    expect(entries()).toHaveLength(1);
    expect(marker()).toBeUndefined();
  });
});

