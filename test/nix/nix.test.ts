// Nix files: every one parses; the module's pure helpers pass their tests and render what the CLI renders.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderAliases, SHELL_RESERVED_WORDS, type AliasProfile } from '../../src/shell/render-aliases.js';
import { REPO_ROOT } from '../helpers/built-cli.js';

const hasNix = spawnSync('nix-instantiate', ['--version']).status === 0;
if (!hasNix) console.warn('nix-instantiate is not installed (Debian: nix-bin): Nix tests skipped');

/** nix-instantiate with a config that works without the nixbld group and without a writable store. */
const NIX_ENV = { ...process.env, NIX_CONFIG: 'build-users-group =' };

/** Evaluates a Nix expression strictly and returns its JSON value. */
export function evalNix(expr: string): unknown {
  const out = execFileSync('nix-instantiate', ['--eval', '--strict', '--json', '--readonly-mode', '-E', expr], {
    cwd: REPO_ROOT,
    env: NIX_ENV,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out);
}

function nixFiles(dir: string): string[] {
  const skip = new Set(['node_modules', '.git', 'dist', '.cache']);
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (skip.has(e.name)) return [];
    const p = join(dir, e.name);
    return e.isDirectory() ? nixFiles(p) : e.name.endsWith('.nix') ? [p] : [];
  });
}

describe('the npm dependency hashes (nix/npm-deps-hashes.json)', () => {
  const recorded = JSON.parse(readFileSync(join(REPO_ROOT, 'nix/npm-deps-hashes.json'), 'utf8')) as { lockfileSha256: string; hashes: Record<string, string> };

  it('were computed from the current package-lock.json (else run scripts/npm-deps-hashes.sh)', () => {
    const lock = createHash('sha256').update(readFileSync(join(REPO_ROOT, 'package-lock.json'))).digest('hex');
    expect(recorded.lockfileSha256).toBe(lock);
  });

  it('hold one SRI SHA-256 per system the flake builds', () => {
    expect(Object.keys(recorded.hashes).sort()).toEqual(['aarch64-darwin', 'aarch64-linux', 'x86_64-darwin', 'x86_64-linux']);
    for (const hash of Object.values(recorded.hashes)) expect(hash).toMatch(/^sha256-[A-Za-z0-9+/]{43}=$/);
  });
});

describe.skipIf(!hasNix)('nix files', () => {
  const files = nixFiles(REPO_ROOT);

  it('includes the flake, the package and the module', () => {
    const names = files.map((f) => relative(REPO_ROOT, f));
    expect(names).toEqual(expect.arrayContaining(['flake.nix', 'nix/package.nix', 'nix/npm-deps.nix', 'hm-module/default.nix', 'hm-module/lib.nix']));
  });

  it.each(files.map((f) => [relative(REPO_ROOT, f), f]))('%s parses', (_name, file) => {
    const r = spawnSync('nix-instantiate', ['--parse', file], { env: NIX_ENV, encoding: 'utf8' });
    expect(r.stderr.replace(/^warning: .*\n/gm, '')).toBe('');
    expect(r.status).toBe(0);
  });

  it('a file with a syntax error is reported (the parse test can fail)', () => {
    const r = spawnSync('nix-instantiate', ['--parse', '-E', '{ a = ; }'], { env: NIX_ENV, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
  });

  it('the pure module tests pass (test/nix/pure-tests.nix evaluates to no failures)', () => {
    expect(evalNix('import ./test/nix/pure-tests.nix')).toEqual([]);
  });

  it('keeps the same list of shell reserved words as the TypeScript rendering', () => {
    expect(evalNix('(import ./hm-module/lib.nix).shellReservedWords')).toEqual([...SHELL_RESERVED_WORDS]);
  });

  it('renders the same aliases as `with-secrets shell-init`', () => {
    const profiles: AliasProfile[] = [
      { name: 'codex' },
      { name: 'codex-work', command: '/nix/store/aaaa-codex/bin/codex' },
      { name: 'gh', command: '/usr/bin/gh' },
      { name: 'quiet', alias: false },
      { name: 'bad name' },
      // Words the shells parse themselves get no alias in either rendering.
      { name: 'time' },
      { name: 'if' },
      { name: 'test' },
    ];
    const nixProfiles = `{ ${profiles
      .map((p) => `${JSON.stringify(p.name)} = { ${p.command ? `command = ${JSON.stringify(p.command)};` : ''} ${p.alias === false ? 'alias = false;' : ''} };`)
      .join(' ')} }`;
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const fromNix = evalNix(`(import ./hm-module/lib.nix).aliasText "${shell}" ${nixProfiles}`);
      expect(fromNix, shell).toBe(renderAliases(shell, profiles));
    }
  });
});
