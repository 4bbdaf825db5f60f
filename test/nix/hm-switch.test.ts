// The Home Manager user, end to end: the flake's module with profiles.codex.env.OPENAI_API_KEY set,
// a generation built by Nix (real Home Manager; the host's tools standing in for nixpkgs:
// test/nix/hm-switch.nix), activated into a temporary HOME, then `codex` typed in bash, zsh and fish.
// Local and opt-in like the package build (WITH_SECRETS_NIX_BUILD=1), and it needs a Home Manager checkout too.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT } from '../helpers/built-cli.js';

const HM = process.env.WITH_SECRETS_HM_PATH;
const NIXLIB = process.env.WITH_SECRETS_NIXPKGS_LIB_PATH;
const CA_BUNDLE = process.env.WITH_SECRETS_CA_BUNDLE ?? '/etc/ssl/certs/ca-certificates.crt';
const ready =
  process.env.WITH_SECRETS_NIX_BUILD === '1' &&
  HM !== undefined &&
  NIXLIB !== undefined &&
  existsSync(join(HM, 'modules', 'modules.nix')) &&
  existsSync(join(NIXLIB, 'lib', 'default.nix')) &&
  spawnSync('nix-build', ['--version']).status === 0;
if (!ready) {
  console.warn('Home Manager switch skipped: set WITH_SECRETS_NIX_BUILD=1, WITH_SECRETS_HM_PATH and WITH_SECRETS_NIXPKGS_LIB_PATH (checkouts of home-manager and nixpkgs.lib); it builds with an unsandboxed Nix');
}

/** Unsandboxed, no nixbld group, and no binary cache to ask (there is no network for it). */
const NIX_CONFIG = 'build-users-group =\nsandbox = false\nsubstituters =';
const CANARY = `canary-${Math.random().toString(36).slice(2)}-hm`;
const user = userInfo().username;

let root: string;
let home: string;
let activation: { status: number | null; output: string };
/** hm-switch.nix's arguments: paths (--arg) and strings (--argstr). */
let genArgs: { args: Record<string, string>; strArgs: Record<string, string> };

/** An interactive shell of this user, as a terminal starts it, running `argv`'s command. */
function shell(argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    env: { PATH: `${home}/.nix-profile/bin:/usr/bin:/bin`, HOME: home, USER: user, TERM: 'dumb', LANG: 'C.UTF-8' },
    cwd: home,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Builds the generation (test/nix/hm-switch.nix) and gives its store path. */
function buildGeneration(strict: boolean): string {
  const argv = ['--no-out-link', 'test/nix/hm-switch.nix', '--arg', 'strict', String(strict)];
  for (const [k, v] of Object.entries(genArgs.args)) argv.push('--arg', k, v);
  for (const [k, v] of Object.entries(genArgs.strArgs)) argv.push('--argstr', k, v);
  const build = spawnSync('nix-build', argv, { cwd: REPO_ROOT, env: { ...process.env, NIX_CONFIG }, encoding: 'utf8', timeout: 1_800_000 });
  if (build.status !== 0) throw new Error(`building the generation failed:\n${build.stderr.split('\n').slice(-30).join('\n')}`);
  return build.stdout.trim().split('\n').pop()!;
}

/** Runs the generation's activate script as Home Manager's switch does. */
function activate(generation: string): { status: number | null; output: string } {
  const act = spawnSync(join(generation, 'activate'), [], { env: { PATH: '/usr/bin:/bin', HOME: home, USER: user, NIX_CONFIG }, cwd: home, encoding: 'utf8', timeout: 300_000 });
  return { status: act.status, output: act.stdout + act.stderr };
}

describe.skipIf(!ready)('home-manager switch with programs.with-secrets', () => {
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'ws-hm-switch-'));
    home = join(root, 'home');
    // The user's secrets, made with with-secrets itself elsewhere, kept where Home Manager does not write.
    const prep = join(root, 'prep');
    mkdirSync(prep);
    const env = { PATH: '/usr/bin:/bin', HOME: prep };
    execFileSync(process.execPath, [CLI, 'init'], { env, stdio: 'ignore' });
    execFileSync(process.execPath, [CLI, 'secret', 'set', 'openai.api_key'], { env, input: CANARY, stdio: ['pipe', 'ignore', 'ignore'] });
    execFileSync(process.execPath, [CLI, 'secret', 'set', 'github.token'], { env, input: `${CANARY}-gh`, stdio: ['pipe', 'ignore', 'ignore'] });
    mkdirSync(join(home, 'secrets'), { recursive: true });
    copyFileSync(join(prep, '.config', 'with-secrets', 'secrets.yaml'), join(home, 'secrets', 'secrets.yaml'));
    copyFileSync(join(prep, '.config', 'sops', 'age', 'keys.txt'), join(home, 'keys.txt'));
    chmodSync(join(home, 'keys.txt'), 0o600);
    // Nix profiles under this HOME (as with use-xdg-base-directories), never the machine's own.
    mkdirSync(join(home, '.local', 'state', 'nix', 'profiles'), { recursive: true });
    symlinkSync(join(home, '.local', 'state', 'nix', 'profiles', 'profile'), join(home, '.nix-profile'));
    // Home Manager reads nixpkgs' lib/ and nixos/ from pkgs.path: one folder with both.
    const pkgsPath = join(root, 'nixpkgs');
    mkdirSync(pkgsPath);
    symlinkSync(join(NIXLIB!, 'lib'), join(pkgsPath, 'lib'));
    symlinkSync(join(REPO_ROOT, 'test', 'nix', 'stand-in', 'nixos'), join(pkgsPath, 'nixos'));

    genArgs = {
      args: { hmPath: HM!, libPath: NIXLIB!, pkgsPath },
      strArgs: { caBundle: CA_BUNDLE, home, user, sopsFile: join(home, 'secrets', 'secrets.yaml'), keyFile: join(home, 'keys.txt'), canary: CANARY },
    };
    activation = activate(buildGeneration(false));
  }, 1_800_000);
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('activates, writes the config, and names the broken profile (a warning: validation is not strict)', () => {
    expect(activation.status, activation.output).toBe(0);
    expect(activation.output).toContain('Activating with-secrets-check');
    expect(activation.output).toMatch(/FAIL {2}broken: MISSING_TOKEN/);
    expect(activation.output).toMatch(/problems in: broken\n/);
    expect(activation.output).not.toMatch(/FAIL {2}codex/);
    expect(activation.output).not.toContain(CANARY);
    expect(readlinkSync(join(home, '.config', 'with-secrets', 'config.yaml'))).toMatch(/^\/nix\/store\//);
    expect(readlinkSync(join(home, '.nix-profile'))).toBe(join(home, '.local', 'state', 'nix', 'profiles', 'profile'));
  });

  it.each([
    ['bash', ['bash', '-i', '-c', 'codex; echo "shell: ${OPENAI_API_KEY:-unset}"']],
    ['zsh', ['zsh', '-i', '-c', 'codex; echo "shell: ${OPENAI_API_KEY:-unset}"']],
    ['fish', ['fish', '-i', '-c', 'codex; echo "shell: $OPENAI_API_KEY"; or true']],
  ])('`codex` typed in %s runs with the token; the shell never has it', (_name, argv) => {
    const r = shell(argv);
    expect(r.stdout, r.stderr).toContain('codex: has its token');
    expect(r.stdout).toMatch(/shell: (unset)?\n/);
    expect(r.stdout + r.stderr).not.toContain(CANARY);
  });

  it('`wrapper = true`: a script that never reads aliases runs the PATH shim, and gh gets its token', () => {
    const r = shell(['sh', '-c', 'command -v gh; gh']);
    expect(r.stdout, r.stderr).toMatch(new RegExp(`^${home}/\\.nix-profile/bin/gh\n`));
    expect(r.stdout).toContain('gh: has its token');
    expect(r.stdout + r.stderr).not.toContain(CANARY);
  });

  it('with validation.strict, the broken profile stops activation', () => {
    const strict = activate(buildGeneration(true));
    expect(strict.status, strict.output).not.toBe(0);
    expect(strict.output).toMatch(/problems in: broken\n/);
    expect(strict.output).not.toContain(CANARY);
  }, 1_800_000);
});
