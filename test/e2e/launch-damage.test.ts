// Launches survive what a broken disk, a careless user or another process leaves behind: damaged or planted
// cache entries, a working directory deleted under them, an empty HOME, a HOME that does not exist.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, makeWorld, NODE, type LaunchWorld } from './launch-harness.js';

let w: LaunchWorld;
const CANARY = `canary-${Math.random().toString(36).slice(2)}-damage`;

beforeAll(async () => {
  w = makeWorld();
  const secrets = await w.sops('secrets.yaml', `gh:\n  token: ${CANARY}\n`);
  w.config({ version: 1, sopsFile: secrets, profiles: { gh: { env: { GITHUB_TOKEN: 'gh.token' } } } });
});
afterAll(() => w.cleanup());

const cacheHome = () => join(w.home, '.cache', 'with-secrets');
/** A launch that checks the token arrived; its exit status and stderr. */
const launch = (extra: Record<string, string | undefined> = {}, cwd?: string) =>
  spawnSync(NODE, [CLI, 'run', '-p', 'gh', '--', 'sh', '-c', `test "$GITHUB_TOKEN" = '${CANARY}'`], { env: w.env(extra), encoding: 'utf8', timeout: 20_000, ...(cwd === undefined ? {} : { cwd }) });

describe('damaged or planted caches', () => {
  it('a code-cache entry with a flipped byte is not used: the launch works and the entry is written again', () => {
    for (let i = 0; i < 3; i++) expect(launch().status).toBe(0);
    const dir = join(cacheHome(), 'v8');
    const name = readdirSync(dir).find((f) => f.endsWith('-launch.bin'))!;
    const entry = readFileSync(join(dir, name));
    for (const at of [40, Math.floor(entry.length / 2), entry.length - 100]) {
      const bad = Buffer.from(entry);
      bad[at] = bad[at]! ^ 0xff;
      writeFileSync(join(dir, name), bad, { mode: 0o600 });
      const r = launch();
      expect(r.status, `${at}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toBe('');
    }
  });

  it('a parse-cache entry with a changed value is dropped and the file read again, not blamed on the file', () => {
    expect(launch().status).toBe(0);
    const dir = join(cacheHome(), 'parsed');
    const [name] = readdirSync(dir);
    const text = readFileSync(join(dir, name!), 'utf8');
    writeFileSync(join(dir, name!), text.replace(/data:(.)/, (_m, c: string) => `data:${c === 'A' ? 'B' : 'A'}`), { mode: 0o600 });
    const r = launch();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(launch().status).toBe(0);
  });

  it('a FIFO planted as the parse-cache entry does not hang the launch', () => {
    expect(launch().status).toBe(0);
    const dir = join(cacheHome(), 'parsed');
    const [name] = readdirSync(dir);
    rmSync(join(dir, name!));
    expect(spawnSync('mkfifo', ['-m', '600', join(dir, name!)]).status).toBe(0);
    const r = launch();
    expect(r.error, 'hung').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
  });
});

describe('the surroundings', () => {
  it('a working directory deleted under the launch: it still runs', () => {
    const gone = join(w.tmp, 'gone');
    mkdirSync(gone);
    const r = spawnSync('sh', ['-c', `cd '${gone}' && rmdir '${gone}' && exec "$0" "$@"`, NODE, CLI, 'run', '-p', 'gh', '--', 'sh', '-c', `test "$GITHUB_TOKEN" = '${CANARY}'`], { env: w.env(), encoding: 'utf8' });
    // The child's own shell may say it cannot name the directory; with-secrets says nothing.
    expect(r.stderr).not.toMatch(/with-secrets|Error|at /);
    expect(r.status).toBe(0);
  });

  it('an empty HOME is no home: nothing is written to the current directory', () => {
    const here = join(w.tmp, 'here');
    mkdirSync(here);
    const r = spawnSync(NODE, [CLI, '--version'], { env: w.env({ HOME: '' }), cwd: here, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(existsSync(join(here, '.cache'))).toBe(false);
  });

  it('a HOME that does not exist (a Nix builder\'s /homeless-shelter) is never created: no cache, the launch works', () => {
    const gone = join(w.tmp, 'homeless-shelter');
    const config = join(w.home, '.config', 'with-secrets', 'config.yaml');
    const key = join(w.home, '.config', 'sops', 'age', 'keys.txt');
    for (const args of [['--version'], ['--config', config, 'run', '-p', 'gh', '--', 'sh', '-c', `test "$GITHUB_TOKEN" = '${CANARY}'`]]) {
      const r = spawnSync(NODE, [CLI, ...args], { env: w.env({ HOME: gone, SOPS_AGE_KEY_FILE: key }), encoding: 'utf8', timeout: 20_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(existsSync(gone)).toBe(false);
    }
  });
});
