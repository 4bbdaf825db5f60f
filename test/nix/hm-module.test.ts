// programs.with-secrets evaluated inside real Home Manager (with nixpkgs' lib and the project's stand-in pkgs).
// Needs checkouts named by WITH_SECRETS_HM_PATH (nix-community/home-manager) and WITH_SECRETS_NIXPKGS_LIB_PATH
// (nix-community/nixpkgs.lib); skipped when they are absent.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers/built-cli.js';

const HM = process.env.WITH_SECRETS_HM_PATH;
const NIXLIB = process.env.WITH_SECRETS_NIXPKGS_LIB_PATH;
const hasNix = spawnSync('nix-instantiate', ['--version']).status === 0;
const ready = hasNix && HM !== undefined && NIXLIB !== undefined && existsSync(join(HM, 'modules', 'modules.nix')) && existsSync(join(NIXLIB, 'lib', 'default.nix'));
if (!ready) {
  console.warn('Home Manager module tests skipped: set WITH_SECRETS_HM_PATH and WITH_SECRETS_NIXPKGS_LIB_PATH to checkouts of nix-community/home-manager and nix-community/nixpkgs.lib (and install nix-bin)');
}

interface HmResult {
  failedAssertions: string[];
  configText: string | null;
  bashInit: string;
  zshInit: string;
  fishInit: string;
  packages: { name: string; text: string | null; destination: string | null; priority: number | null }[];
  activation: string | null;
  activationAfter: string[] | null;
  order: { check: number | null; linkGeneration: number; installPackages: number };
  activationScript: string;
}

let dir: string;
let pkgsPath: string;
let n = 0;

/** Evaluates Home Manager with `configuration` (a Nix module expression) and returns what hm-eval.nix reports. */
function evalHm(configuration: string): HmResult {
  const file = join(dir, `config-${n++}.nix`);
  writeFileSync(file, configuration);
  const out = execFileSync(
    'nix-instantiate',
    ['--eval', '--strict', '--json', '--readonly-mode', 'test/nix/hm-eval.nix', '--arg', 'hmPath', HM!, '--arg', 'libPath', NIXLIB!, '--arg', 'pkgsPath', pkgsPath, '--arg', 'configuration', file],
    { cwd: REPO_ROOT, env: { ...process.env, NIX_CONFIG: 'build-users-group =' }, encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  return JSON.parse(out) as HmResult;
}

beforeAll(() => {
  if (!ready) return;
  dir = mkdtempSync(join(tmpdir(), 'ws-hm-'));
  // Home Manager reads nixpkgs' lib/ and nixos/modules/misc/ from pkgs.path: one folder with both.
  pkgsPath = join(dir, 'nixpkgs');
  execFileSync('mkdir', ['-p', pkgsPath]);
  symlinkSync(join(NIXLIB!, 'lib'), join(pkgsPath, 'lib'));
  symlinkSync(join(REPO_ROOT, 'test', 'nix', 'stand-in', 'nixos'), join(pkgsPath, 'nixos'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!ready)('Home Manager module', () => {
  let r: HmResult;
  beforeAll(() => {
    r = evalHm(`{ pkgs, lib, ... }: {
      programs.bash.enable = true;
      programs.zsh.enable = true;
      programs.fish.enable = true;
      programs.with-secrets = {
        enable = true;
        sopsFile = "~/.config/with-secrets/secrets.yaml";
        ageKeyFile = "/home/alice/.config/sops/age/keys.txt";
        profiles.codex.env.OPENAI_API_KEY = "openai.api_key";
        profiles.codex-work = { command = lib.getExe pkgs.codex; env.OPENAI_API_KEY = "work.openai"; };
        profiles.gh = { command = lib.getExe pkgs.gh; wrapper = true; alias = false; env.GITHUB_TOKEN = { sops = "~/g.yaml"; key = "token"; }; };
        settings.profiles.codex.keepEnv = [ "SOPS_AGE_KEY_FILE" ];
      };
    }`);
  });

  it('has no failed assertion and writes the merged config as JSON', () => {
    expect(r.failedAssertions).toEqual([]);
    const config = JSON.parse(r.configText!) as Record<string, unknown>;
    expect(config).toEqual({
      version: 1,
      sopsFile: '~/.config/with-secrets/secrets.yaml',
      identities: [{ file: '/home/alice/.config/sops/age/keys.txt' }],
      profiles: {
        codex: { env: { OPENAI_API_KEY: 'openai.api_key' }, keepEnv: ['SOPS_AGE_KEY_FILE'] },
        'codex-work': { command: expect.stringMatching(/^\/nix\/store\/\w+-codex\/bin\/codex$/), env: { OPENAI_API_KEY: 'work.openai' } },
        gh: { command: expect.stringMatching(/-gh\/bin\/gh$/), env: { GITHUB_TOKEN: { sops: '~/g.yaml', key: 'token' } } },
      },
    });
  });

  it('the config it writes is one the config loader accepts', async () => {
    const path = join(dir, 'config.yaml');
    writeFileSync(path, r.configText!);
    const res = await runCli(['--config', path, 'list'], { env: { HOME: dir, PATH: process.env.PATH } });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('codex-work');
  });

  it('adds the snippet and the aliases to bash, zsh (after compinit) and fish', () => {
    for (const [shell, text] of [['bash', r.bashInit], ['zsh', r.zshInit], ['fish', r.fishInit]] as const) {
      expect(text, shell).toMatch(new RegExp(`source .*-with-secrets/share/with-secrets/shell/with-secrets\\.${shell}`));
    }
    expect(r.bashInit).toContain("alias codex='with-secrets codex'\nalias codex-work='with-secrets codex-work'\ncomplete -o default -F __with_secrets_complete_alias codex-work\n");
    expect(r.bashInit).not.toContain('alias gh=');
    expect(r.zshInit.indexOf('compinit')).toBeLessThan(r.zshInit.indexOf('with-secrets.zsh'));
    expect(r.fishInit).toContain('function codex-work --wraps codex');
  });

  it('puts a marked wrapper shim first on PATH for wrapper = true', () => {
    const shim = r.packages.find((p) => p.name === 'with-secrets-shim-gh');
    expect(shim?.destination).toBe('/bin/gh');
    expect(shim?.priority).toBeLessThan(5); // lib.hiPrio: ahead of the real package (default priority 5)
    expect(shim?.text?.slice(0, 512)).toContain('with-secrets-shim');
    expect(r.packages.some((p) => p.name === 'with-secrets')).toBe(true);
  });

  it('checks after linkGeneration and installPackages, and the whole activation script is valid bash', () => {
    expect(r.activationAfter).toEqual(['linkGeneration', 'installPackages']);
    expect(r.order.check).toBeGreaterThan(r.order.linkGeneration);
    expect(r.order.check).toBeGreaterThan(r.order.installPackages);
    expect(r.activation).toContain("--config '/home/alice/.config/with-secrets/config.yaml' check");
    expect(r.activation).toContain("PATH='/home/alice/.nix-profile/bin'");
    const script = join(dir, 'activation.sh');
    writeFileSync(script, r.activationScript);
    const syntax = spawnSync('bash', ['-n', script], { encoding: 'utf8' });
    expect(syntax.stderr).toBe('');
    expect(syntax.status).toBe(0);
  });

  it('asserts that key files are strings outside the store, profile names valid, commands absolute', () => {
    writeFileSync(join(dir, 'key.txt'), 'not a key');
    const bad = evalHm(`{ ... }: {
      programs.with-secrets = {
        enable = true;
        ageKeyFile = ./key.txt;
        identities = [ { file = "/nix/store/0000-keys.txt"; } { file = "/ok"; keyring = "x"; } ];
        profiles.check.env.A = "a";
        profiles.rel = { command = "bin/tool"; env.A = "a"; };
        profiles.shimonly = { wrapper = true; env.A = "a"; };
        settings.profiles.rel.identities = [ { file = "/nix/store/1111-other-keys.txt"; } ];
      };
    }`);
    const messages = bad.failedAssertions.join('\n');
    expect(messages).toMatch(/ageKeyFile is a Nix path.*world-readable Nix store/);
    expect(messages).toMatch(/identities\.0\.file .*is inside the Nix store/);
    expect(messages).toMatch(/identities\.1: set exactly one of `file`, `command`, `keyring`/);
    expect(messages).toMatch(/profiles\.check: .*subcommand/);
    expect(messages).toMatch(/profiles\.rel\.command must be an absolute path/);
    expect(messages).toMatch(/profiles\.shimonly\.wrapper needs `command`/);
    expect(messages).toMatch(/settings\.profiles\.rel\.identities\.0\.file .*is inside the Nix store/);
    // The typed store path is reported once, not again through the settings it is rendered into.
    expect(messages.match(/0000-keys\.txt/g)).toHaveLength(1);
    // The path literal is never copied into the store (a copy would be named /nix/store/<hash>-key.txt).
    expect(bad.configText).toContain(`"file":"${join(dir, 'key.txt')}"`);
    expect(bad.configText).not.toMatch(/-key\.txt/);
  });

  it('honours the integration switches, home.shell defaults and validation.enable', () => {
    const off = evalHm(`{ ... }: {
      programs.bash.enable = true;
      programs.zsh.enable = true;
      home.shell.enableZshIntegration = false;
      programs.with-secrets = { enable = true; enableBashIntegration = false; validation.enable = false; profiles.codex.env.A = "a"; };
    }`);
    expect(off.bashInit).not.toContain('with-secrets');
    expect(off.zshInit).not.toContain('with-secrets');
    expect(off.activation).toBeNull();
    const strict = evalHm(`{ ... }: { programs.with-secrets = { enable = true; validation.strict = true; profiles.codex.env.A = "a"; }; }`);
    expect(strict.activation).toMatch(/errorEcho .*; exit 1/);
  });
});
