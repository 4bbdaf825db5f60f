// flake.nix and nix/package.nix evaluated with nixpkgs' lib and the stand-in pkgs (nothing is built or fetched).
// Needs WITH_SECRETS_NIXPKGS_LIB_PATH (a checkout of nix-community/nixpkgs.lib); skipped when absent.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/built-cli.js';

const NIXLIB = process.env.WITH_SECRETS_NIXPKGS_LIB_PATH;
const hasNix = spawnSync('nix-instantiate', ['--version']).status === 0;
const ready = hasNix && NIXLIB !== undefined && existsSync(join(NIXLIB, 'lib', 'default.nix'));
if (!ready) console.warn('flake evaluation tests skipped: set WITH_SECRETS_NIXPKGS_LIB_PATH to a checkout of nix-community/nixpkgs.lib (and install nix-bin)');

let dir: string;
let pkgsPath: string;

function evalFlake(nodeVersion: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    'nix-instantiate',
    ['--eval', '--strict', '--json', '--readonly-mode', 'test/nix/flake-eval.nix', '--arg', 'libPath', NIXLIB!, '--arg', 'pkgsPath', pkgsPath, '--argstr', 'nodeVersion', nodeVersion],
    { cwd: REPO_ROOT, env: { ...process.env, NIX_CONFIG: 'build-users-group =' }, encoding: 'utf8' },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!ready) return;
  dir = mkdtempSync(join(tmpdir(), 'ws-flake-'));
  pkgsPath = join(dir, 'nixpkgs');
  mkdirSync(pkgsPath);
  symlinkSync(join(NIXLIB!, 'lib'), join(pkgsPath, 'lib'));
  symlinkSync(join(REPO_ROOT, 'test', 'nix', 'stand-in', 'nixos'), join(pkgsPath, 'nixos'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!ready)('flake and package', () => {
  it('exposes the package, overlay, modules and checks for every system', () => {
    const r = evalFlake('22.16.0');
    expect(r.status, r.stderr).toBe(0);
    const f = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(f.systems).toEqual(['aarch64-darwin', 'aarch64-linux', 'x86_64-darwin', 'x86_64-linux']);
    expect(f.name).toBe(`with-secrets-${(JSON.parse(execFileSync('cat', [join(REPO_ROOT, 'package.json')], { encoding: 'utf8' })) as { version: string }).version}`);
    expect(f.mainProgram).toBe('with-secrets');
    expect(f.overlayGives).toBe(f.name);
    expect(f.moduleIsFunction).toBe(true);
    expect(f.homeModulesIsFunction).toBe(true);
    expect(f.checks).toEqual(['module-pure', 'package', 'shell-snippets']);
  });

  it('fetches the npm dependencies in a fixed-output derivation with npm ci --ignore-scripts, and builds offline', () => {
    const f = JSON.parse(evalFlake('22.16.0').stdout) as {
      deps: { outputHashMode: string; outputHash: string; buildPhase: string; installPhase: string };
      buildPhase: string;
      postFixup: string;
      srcKeeps: string[];
      lockKeeps: string[];
    };
    expect(f.deps.outputHashMode).toBe('recursive');
    expect(f.deps.buildPhase).toContain('npm ci --ignore-scripts');
    // The hash scripts/npm-deps-hashes.sh computed outside Nix, for a tree built the same way.
    const recorded = JSON.parse(readFileSync(join(REPO_ROOT, 'nix/npm-deps-hashes.json'), 'utf8')) as { hashes: Record<string, string> };
    expect(f.deps.outputHash).toBe(recorded.hashes['x86_64-linux']);
    const script = readFileSync(join(REPO_ROOT, 'scripts/npm-deps-hashes.sh'), 'utf8');
    const npmCi = (text: string) => / ci --ignore-scripts [^\n]*?--install-strategy=hoisted/.exec(text)?.[0];
    expect(npmCi(f.deps.buildPhase)).toBeDefined();
    expect(npmCi(f.deps.buildPhase)).toBe(npmCi(script));
    expect(f.deps.installPhase).toContain('rm -f "$out/node_modules/.package-lock.json"');
    expect(f.deps.installPhase).toContain('find "$out/node_modules" -type d -empty -delete');
    expect(script).toContain('find "$work/out/node_modules" -type d -empty -delete');
    expect(f.buildPhase).toMatch(/npm rebuild keytar --offline/);
    expect(f.buildPhase).toMatch(/npm_config_nodedir=/);
    expect(f.postFixup).toContain('completion zsh > "$out/share/zsh/site-functions/_with-secrets"');
    // Sources: what the build reads, nothing else (so unrelated edits do not rebuild); the lockfile alone for the deps.
    expect(f.srcKeeps).toEqual(['package.json', 'package-lock.json', 'tsconfig.json', 'scripts/build.mjs', 'src/cli/main.ts', 'shell/with-secrets.fish', 'hm-module/lib.nix']);
    expect(f.lockKeeps).toEqual(['package.json', 'package-lock.json']);
  });

  it('refuses a Node older than 22.15 (the launcher needs process.execve)', () => {
    const r = evalFlake('22.14.0');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('with-secrets needs Node >= 22.15');
  });
});
