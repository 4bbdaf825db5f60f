// The Home Manager activation entry and wrapper shim (rendered by hm-module/lib.nix) run under bash with the built CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, NODE, REPO_ROOT } from '../helpers/built-cli.js';
import { ageKeygen, makeSopsFile, writeKeyFile } from '../helpers/sops-fixture.js';

const CANARY = 'canary-activation-4c2d9e8f1a';
const hasNix = spawnSync('nix-instantiate', ['--version']).status === 0;
if (!hasNix) console.warn('nix-instantiate is not installed (Debian: nix-bin): activation tests skipped');

/** Evaluates a Nix expression (in the repository) to a JSON value. */
function evalNix(expr: string): unknown {
  const out = execFileSync('nix-instantiate', ['--eval', '--strict', '--json', '--readonly-mode', '-E', expr], {
    cwd: REPO_ROOT,
    env: { ...process.env, NIX_CONFIG: 'build-users-group =' },
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

/** A Nix string literal. */
const nixString = (s: string) => JSON.stringify(s).replace(/\$\{/g, '\\${');

// Home Manager's activation helpers, by their documented behaviour (lib/bash/home-manager.sh): `run`
// prints the command under DRY_RUN and runs it otherwise; verboseEcho prints only under VERBOSE.
const HM_HELPERS = `
run() { if [[ -v DRY_RUN ]]; then echo "$@"; else "$@"; fi; }
verboseEcho() { if [[ -v VERBOSE ]]; then echo "$*"; fi; }
warnEcho() { echo "WARN: $*"; }
errorEcho() { echo "ERROR: $*"; }
noteEcho() { echo "NOTE: $*"; }
`;

let home: string;
let wsLog: string;
let withSecrets: string;
let profileBin: string;
let goodConfig: string;
let badConfig: string;

/** Renders a config with the module's renderSettings and writes it where the activation entry looks. */
function renderConfig(name: string, profiles: string): string {
  const json = evalNix(`builtins.toJSON ((import ./hm-module/lib.nix).renderSettings { sopsFile = ${nixString(join(home, 'secrets.yaml'))}; profiles = ${profiles}; })`) as string;
  const path = join(home, name);
  writeFileSync(path, json);
  return path;
}

/** Runs the activation entry as Home Manager would: `set -eu -o pipefail`, a PATH that is not the user's. */
function activate(configFile: string, strict: boolean, vars: Record<string, string> = {}) {
  const entry = evalNix(
    `(import ./hm-module/lib.nix).activationText { withSecrets = ${nixString(withSecrets)}; configFile = ${nixString(configFile)}; binDirs = [ ${nixString(profileBin)} ]; strict = ${strict}; }`,
  ) as string;
  const script = `set -eu\nset -o pipefail\n${HM_HELPERS}\n${entry}\necho after-entry\n`;
  const file = join(home, 'activate.sh');
  writeFileSync(file, script);
  rmSync(wsLog, { force: true });
  const r = spawnSync('bash', [file], {
    env: { HOME: home, PATH: '/usr/bin:/bin', SOPS_AGE_KEY_FILE: join(home, 'keys.txt'), ...vars },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const out = r.stdout + r.stderr;
  expect(out).not.toContain(CANARY);
  return { status: r.status, out, ranCheck: existsSync(wsLog), script };
}

beforeAll(async () => {
  if (!hasNix) return;
  assertBuilt();
  home = mkdtempSync(join(tmpdir(), 'ws-activation-'));
  wsLog = join(home, 'with-secrets.log');
  const key = ageKeygen();
  writeKeyFile(home, [key.secret]);
  await makeSopsFile({ dir: home, name: 'secrets.yaml', plain: `svc:\n    token: ${CANARY}\n`, recipients: [key.recipient] });
  // The package's bin (absolute path, as lib.getExe gives) and the Home Manager profile's bin with the program.
  const pkgBin = join(home, 'pkg', 'bin');
  profileBin = join(home, 'profile', 'bin');
  mkdirSync(pkgBin, { recursive: true });
  mkdirSync(profileBin, { recursive: true });
  withSecrets = join(pkgBin, 'with-secrets');
  writeFileSync(withSecrets, `#!/bin/sh\necho "$*" >> '${wsLog}'\nexec '${NODE}' '${CLI}' "$@"\n`);
  writeFileSync(join(profileBin, 'probe'), '#!/bin/sh\necho "probe got [${PROBE_TOKEN-unset}] args [$*]"\n');
  chmodSync(withSecrets, 0o755);
  chmodSync(join(profileBin, 'probe'), 0o755);
  goodConfig = renderConfig('good.json', '{ probe = { env.PROBE_TOKEN = "svc.token"; alias = true; wrapper = true; }; }');
  badConfig = renderConfig('bad.json', '{ probe.env.PROBE_TOKEN = "svc.token"; broken.env.X = "svc.missing"; }');
});

afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!hasNix)('activation entry (validation)', () => {
  it('live: a config whose secrets open passes quietly and activation goes on', () => {
    const r = activate(goodConfig, false);
    expect(r.status, r.out).toBe(0);
    expect(r.ranCheck).toBe(true);
    expect(r.out).toContain('after-entry');
    expect(r.out).not.toMatch(/WARN|ERROR|FAIL/);
    expect(r.out).toContain('ok: 1 profile checked');
  });

  it('the rendered config (JSON from the module) is what the config loader accepts', () => {
    expect(JSON.parse(readFileSync(goodConfig, 'utf8'))).toEqual({ version: 1, sopsFile: join(home, 'secrets.yaml'), profiles: { probe: { env: { PROBE_TOKEN: 'svc.token' } } } });
  });

  it('dry run: prints the command (names only) and runs nothing', () => {
    const r = activate(goodConfig, true, { DRY_RUN: '1' });
    expect(r.status, r.out).toBe(0);
    expect(r.ranCheck).toBe(false);
    expect(r.out).toContain(`${withSecrets} --config ${goodConfig} check`);
    expect(r.out).toContain('after-entry');
  });

  it('verbose: says what it checks and passes --verbose (names, never values)', () => {
    const r = activate(goodConfig, false, { VERBOSE: '1' });
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(`with-secrets: checking the profiles in ${goodConfig}`);
    expect(r.out).toMatch(/ok +probe: PROBE_TOKEN/);
    expect(readFileSync(wsLog, 'utf8')).toContain('check --verbose');
  });

  it('failing: warns naming the broken profile, activation goes on', () => {
    const r = activate(badConfig, false);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/FAIL +broken: X/);
    expect(r.out).not.toMatch(/FAIL +probe/);
    expect(r.out).toMatch(/WARN: with-secrets: the check above failed/);
    expect(r.out).toContain('after-entry');
  });

  it('strict: a failing check stops activation', () => {
    const r = activate(badConfig, true);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/FAIL +broken: X/);
    expect(r.out).toMatch(/ERROR: with-secrets: .*validation\.strict/);
    expect(r.out).not.toContain('after-entry');
    // …and a passing one does not.
    expect(activate(goodConfig, true).status).toBe(0);
  });

  it('the entry is valid bash and shellcheck-clean with the helpers declared', () => {
    const r = activate(goodConfig, true, { DRY_RUN: '1' });
    expect(spawnSync('bash', ['-n', join(home, 'activate.sh')]).status).toBe(0);
    if (spawnSync('shellcheck', ['--version']).status === 0) {
      const sc = spawnSync('shellcheck', ['-s', 'bash', '-e', 'SC2317', join(home, 'activate.sh')], { encoding: 'utf8' });
      expect(sc.stdout, r.script).toBe('');
    }
  });
});

describe.skipIf(!hasNix)('wrapper shim', () => {
  it('runs the program with its secrets, found past the shim (no loop), and carries the shim marker', () => {
    const text = evalNix(`(import ./hm-module/lib.nix).wrapperText { name = "probe"; withSecrets = ${nixString(withSecrets)}; shell = "/bin/sh"; }`) as string;
    expect(text.slice(0, 512)).toContain('with-secrets-shim');
    const shimBin = join(home, 'shims');
    mkdirSync(shimBin, { recursive: true });
    writeFileSync(join(shimBin, 'probe'), text);
    chmodSync(join(shimBin, 'probe'), 0o755);
    const r = spawnSync(join(shimBin, 'probe'), ['a', 'b'], {
      env: { HOME: home, PATH: `${shimBin}:${profileBin}:/usr/bin:/bin`, SOPS_AGE_KEY_FILE: join(home, 'keys.txt'), WITH_SECRETS_CONFIG: goodConfig },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`probe got [${CANARY}] args [a b]\n`);
  });
});
