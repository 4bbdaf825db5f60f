// The Nix package built by Nix itself (host tools standing in for nixpkgs: test/nix/host-tools-build.nix):
// the fixed-output npm dependencies match the recorded hash, and the installed program works.
// Local and opt-in: needs WITH_SECRETS_NIX_BUILD=1, WITH_SECRETS_NIXPKGS_LIB_PATH (a checkout of
// nix-community/nixpkgs.lib), a Nix that may write its store without a sandbox, and the npm registry.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/built-cli.js';
import { canRunKeyringSession, startKeyringSession } from '../helpers/keyring-session.js';

const NIXLIB = process.env.WITH_SECRETS_NIXPKGS_LIB_PATH;
const CA_BUNDLE = process.env.WITH_SECRETS_CA_BUNDLE ?? '/etc/ssl/certs/ca-certificates.crt';
const ready =
  process.env.WITH_SECRETS_NIX_BUILD === '1' &&
  NIXLIB !== undefined &&
  existsSync(join(NIXLIB, 'lib', 'default.nix')) &&
  spawnSync('nix-build', ['--version']).status === 0;
if (!ready) {
  console.warn('Nix package build skipped: set WITH_SECRETS_NIX_BUILD=1 and WITH_SECRETS_NIXPKGS_LIB_PATH (a nixpkgs.lib checkout); it builds with an unsandboxed Nix and the npm registry');
}

/** Unsandboxed (the host tools live outside the store), and without the nixbld group. */
const NIX_ENV = { ...process.env, NIX_CONFIG: 'build-users-group =\nsandbox = false' };
const system = `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-${process.platform === 'darwin' ? 'darwin' : 'linux'}`;

function nixBuild(attr?: string): string {
  const args = ['--no-out-link', 'test/nix/host-tools-build.nix', '--arg', 'libPath', NIXLIB!, '--argstr', 'caBundle', CA_BUNDLE];
  if (attr !== undefined) args.push('-A', attr);
  const r = spawnSync('nix-build', args, { cwd: REPO_ROOT, env: NIX_ENV, encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) throw new Error(`nix-build ${attr ?? ''} failed:\n${r.stderr.split('\n').slice(-25).join('\n')}`);
  return r.stdout.trim().split('\n').pop()!;
}

describe.skipIf(!ready)('the Nix package, built by Nix', () => {
  let out: string;
  let home: string;
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'ws-nix-home-'));
    out = nixBuild();
  }, 1_800_000);
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it("builds the npm dependencies to the hash recorded for this system (Nix checks the fixed-output hash)", () => {
    const recorded = (JSON.parse(readFileSync(join(REPO_ROOT, 'nix/npm-deps-hashes.json'), 'utf8')) as { hashes: Record<string, string> }).hashes[system];
    expect(recorded).toMatch(/^sha256-/);
    const deps = nixBuild('nodeModules');
    expect(existsSync(join(deps, 'node_modules', 'esbuild', 'package.json'))).toBe(true);
    expect(existsSync(join(deps, 'node_modules', '.package-lock.json'))).toBe(false);
  });

  it('installs the program, its completions and a keytar built against libsecret', () => {
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(execFileSync(join(out, 'bin', 'with-secrets'), ['--version'], { encoding: 'utf8' }).trim()).toBe(version);
    for (const f of ['share/bash-completion/completions/with-secrets', 'share/zsh/site-functions/_with-secrets', 'share/fish/vendor_completions.d/with-secrets.fish']) {
      expect(statSync(join(out, f)).size, f).toBeGreaterThan(500);
    }
    // keytar is the one package loaded at run time, and only its JavaScript and addon: no build tree,
    // whose Makefiles and .deps would make the compiler and the -dev headers run-time references.
    expect(readdirSync(join(out, 'lib', 'node_modules', 'with-secrets', 'node_modules'))).toEqual(['keytar']);
    const keytar = join(out, 'lib', 'node_modules', 'with-secrets', 'node_modules', 'keytar');
    expect(readdirSync(join(keytar, 'build'), { recursive: true }).sort()).toEqual(['Release', 'Release/keytar.node']);
    expect(execFileSync(process.execPath, ['-e', `process.stdout.write(typeof require(${JSON.stringify(keytar)}).getPassword)`], { encoding: 'utf8' })).toBe('function');
  });

  it('runs a program with a secret: init, secret set, then a launch from the store path', () => {
    const ws = join(out, 'bin', 'with-secrets');
    const env = { PATH: '/usr/bin:/bin', HOME: home };
    const canary = `canary-${Math.random().toString(36).slice(2)}-nix`;
    execFileSync(ws, ['init'], { env, stdio: 'ignore' });
    execFileSync(ws, ['secret', 'set', 'openai.api_key'], { env, input: canary, stdio: ['pipe', 'ignore', 'ignore'] });
    const r = spawnSync(ws, ['run', '--profile', 'codex', '--', 'sh', '-c', `test "$OPENAI_API_KEY" = '${canary}'`], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain(canary);
  });

  it.skipIf(!canRunKeyringSession())('stores a token in a real Secret Service and a launch reads it back (the packaged keytar)', async () => {
    const session = await startKeyringSession('unlocked');
    try {
      const ws = join(out, 'bin', 'with-secrets');
      const kHome = join(home, 'keyring-user');
      mkdirSync(join(kHome, '.config', 'with-secrets'), { recursive: true });
      writeFileSync(join(kHome, '.config', 'with-secrets', 'config.yaml'), JSON.stringify({ version: 1, profiles: { gh: { env: { GH_TOKEN: { keyring: 'gh-token' } } } } }));
      const env = { PATH: '/usr/bin:/bin', HOME: kHome, DBUS_SESSION_BUS_ADDRESS: session.env['DBUS_SESSION_BUS_ADDRESS']!, XDG_RUNTIME_DIR: session.env['XDG_RUNTIME_DIR']! };
      const token = `kr-${Math.random().toString(36).slice(2)}-nix`;
      const set = spawnSync(ws, ['keyring', 'set', 'gh-token'], { env, input: token, encoding: 'utf8' });
      expect(set.status, set.stderr).toBe(0);
      const r = spawnSync(ws, ['run', '-p', 'gh', '--', 'sh', '-c', `test "$GH_TOKEN" = '${token}'`], { env, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(set.stdout + set.stderr + r.stderr).not.toContain(token);
    } finally {
      session.stop();
    }
  });
});
