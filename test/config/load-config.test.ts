// Config loading: location, JSON fast path, YAML, and errors that name file, line and key.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, locateConfig } from '../../src/config/load-config.js';
import { expandPath } from '../../src/config/expand-path.js';
import { isWithSecretsError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const home = '/home/u';
const env = { HOME: home };
let n = 0;
function write(text: string, ext = 'yaml'): string {
  const p = join(dir, `c${n++}.${ext}`);
  writeFileSync(p, text);
  return p;
}
async function load(text: string, ext = 'yaml') {
  return loadConfig(write(text, ext), { env, homeDir: home });
}
async function failure(text: string, ext = 'yaml'): Promise<{ message: string; hint: string | undefined; code: string }> {
  try {
    await load(text, ext);
  } catch (e) {
    if (isWithSecretsError(e)) return { message: e.message, hint: e.hint, code: e.code };
    throw e;
  }
  throw new Error('expected a config error');
}

describe('locateConfig', () => {
  it('prefers --config, then WITH_SECRETS_CONFIG, then XDG_CONFIG_HOME, then ~/.config', () => {
    const cwd = '/work';
    expect(locateConfig({ flag: 'my.yaml', env: { WITH_SECRETS_CONFIG: '/e.yaml' }, homeDir: home, cwd })).toBe('/work/my.yaml');
    expect(locateConfig({ env: { WITH_SECRETS_CONFIG: '/e.yaml', XDG_CONFIG_HOME: '/x' }, homeDir: home, cwd })).toBe('/e.yaml');
    expect(locateConfig({ env: { XDG_CONFIG_HOME: '/x' }, homeDir: home, cwd })).toBe('/x/with-secrets/config.yaml');
    expect(locateConfig({ env: { XDG_CONFIG_HOME: '' }, homeDir: home, cwd })).toBe('/home/u/.config/with-secrets/config.yaml');
    expect(locateConfig({ env: {}, homeDir: home, cwd })).toBe('/home/u/.config/with-secrets/config.yaml');
  });
});

describe('expandPath', () => {
  const ctx = { env: { XDG_RUNTIME_DIR: '/run/user/1', XDG_CONFIG_HOME: '/cfg' }, homeDir: home, baseDir: '/base' };
  it('expands ~, $HOME, ${HOME} and the XDG directories with their defaults', () => {
    expect(expandPath('~/a', ctx)).toBe('/home/u/a');
    expect(expandPath('~', ctx)).toBe('/home/u');
    expect(expandPath('$HOME/a', ctx)).toBe('/home/u/a');
    expect(expandPath('${HOME}/a', ctx)).toBe('/home/u/a');
    expect(expandPath('$XDG_CONFIG_HOME/x', ctx)).toBe('/cfg/x');
    expect(expandPath('$XDG_DATA_HOME/x', ctx)).toBe('/home/u/.local/share/x');
    expect(expandPath('$XDG_RUNTIME_DIR/secrets/x', ctx)).toBe('/run/user/1/secrets/x');
    expect(expandPath('rel/x', ctx)).toBe('/base/rel/x');
  });
  it('refuses other variables, ~user and an unset XDG_RUNTIME_DIR', () => {
    expect(() => expandPath('$USER/x', ctx)).toThrow(/\$USER cannot be used/);
    expect(() => expandPath('~root/x', ctx)).toThrow(/~user/);
    expect(() => expandPath('$XDG_RUNTIME_DIR/x', { ...ctx, env: {} })).toThrow(/XDG_RUNTIME_DIR is not set .*cron and ssh sessions may not: set it, or use another path$/);
  });
});

describe('loadConfig', () => {
  it('reads the documented YAML example', async () => {
    const c = await load(`version: 1
sopsFile: ~/.config/with-secrets/secrets.yaml
identities:
  - file: ~/.config/sops/age/keys.txt
  - command: [pass, show, age]
  - keyring: work
profiles:
  codex:
    command: /usr/bin/codex
    env:
      OPENAI_API_KEY: openai.api_key
  gh:
    env:
      GITHUB_TOKEN: { sops: ~/.config/with-secrets/github.yaml, key: token }
      AGE_TOK: { age: $XDG_CONFIG_HOME/tok.age }
      PLAIN: { file: ./plain.txt }
      KR: { keyring: gh-token }
  tools:
    pristine: true
    allowDangerous: [NODE_OPTIONS]
    keepEnv: [SOPS_AGE_KEY_FILE]
    envFrom: [ ~/.config/with-secrets/dev.env, { sops: /x/dev.json, format: dotenv } ]
    env:
      NODE_OPTIONS: opts
`);
    expect(c.sopsFile).toBe('/home/u/.config/with-secrets/secrets.yaml');
    expect(c.identities).toEqual([{ file: '/home/u/.config/sops/age/keys.txt' }, { command: ['pass', 'show', 'age'] }, { keyring: 'work' }]);
    expect([...c.profiles.keys()]).toEqual(['codex', 'gh', 'tools']);
    expect(c.profiles.get('codex')).toMatchObject({ command: '/usr/bin/codex', env: [{ name: 'OPENAI_API_KEY', ref: { kind: 'sops', file: '/home/u/.config/with-secrets/secrets.yaml', key: 'openai.api_key' } }] });
    expect(c.profiles.get('gh')!.env.map((b) => b.ref)).toEqual([
      { kind: 'sops', file: '/home/u/.config/with-secrets/github.yaml', key: 'token' },
      { kind: 'age', file: '/home/u/.config/tok.age' },
      { kind: 'file', file: join(dir, 'plain.txt') },
      { kind: 'keyring', name: 'gh-token' },
    ]);
    expect(c.profiles.get('tools')).toMatchObject({
      pristine: true,
      allowDangerous: ['NODE_OPTIONS'],
      keepEnv: ['SOPS_AGE_KEY_FILE'],
      envFrom: [{ file: '/home/u/.config/with-secrets/dev.env' }, { file: '/x/dev.json', format: 'dotenv' }],
    });
  });

  it('reads JSON (what Home Manager writes) the same way', async () => {
    const c = await load(JSON.stringify({ version: 1, sopsFile: '/s.yaml', profiles: { codex: { env: { K: 'a.b' } } } }), 'json');
    expect(c.profiles.get('codex')!.env).toEqual([{ name: 'K', ref: { kind: 'sops', file: '/s.yaml', key: 'a.b' } }]);
  });

  it('names file, line and key of an unknown key (YAML and JSON)', async () => {
    const y = await failure('version: 1\nprofiles:\n  codex:\n    env: {}\n    comand: /bin/x\n');
    expect(y.code).toBe('config-invalid');
    expect(y.message).toMatch(/c\d+\.yaml:5: profiles\.codex\.comand: unknown key "comand"/);
    expect(y.hint).toMatch(/allowed here: command/);
    const j = await failure('{\n  "profiles": {\n    "gh": {\n      "envv": {}\n    }\n  }\n}\n', 'json');
    expect(j.message).toMatch(/c\d+\.json:4: profiles\.gh\.envv: unknown key "envv"/);
  });

  it('refuses subcommand names as profile names, with a hint', async () => {
    const f = await failure('profiles:\n  list:\n    env: {}\n');
    expect(f.message).toMatch(/:2: profiles\.list: "list" is a with-secrets subcommand/);
    expect(f.hint).toMatch(/with-secrets run --profile list-tool -- list/);
  });

  it('refuses a key path without a sopsFile, dangerous and invalid names, bad types', async () => {
    expect((await failure('profiles:\n  a:\n    env:\n      K: x.y\n')).message).toMatch(/:4: profiles\.a\.env\.K: is a key path, but there is no top-level sopsFile/);
    const d = await failure('sopsFile: /s\nprofiles:\n  a:\n    env:\n      LD_PRELOAD: x\n');
    expect(d.message).toMatch(/:5: profiles\.a\.env\.LD_PRELOAD: LD_PRELOAD is a dangerous variable/);
    expect(d.hint).toMatch(/allowDangerous: \[LD_PRELOAD\]/);
    expect((await failure('sopsFile: /s\nprofiles:\n  a:\n    env:\n      1BAD: x\n')).message).toMatch(/"1BAD" is not a valid variable name/);
    expect((await failure('sopsFile: /s\nprofiles:\n  a:\n    env:\n      WITH_SECRETS_INJECTED: x\n')).message).toMatch(/own marker/);
    expect((await failure('profiles:\n  a:\n    pristine: yes please\n')).message).toMatch(/:3: profiles\.a\.pristine: must be true or false/);
    expect((await failure('profiles:\n  a:\n    env:\n      K: { sops: /x }\n')).message).toMatch(/profiles\.a\.env\.K\.key: is missing: give a key path$/);
    expect((await failure('profiles:\n  a:\n    env:\n      K: { vault: x }\n')).message).toMatch(/:4: profiles\.a\.env\.K\.vault: unknown key "vault"/);
    expect((await failure('identities:\n  - file: /a\n    command: [x]\n')).message).toMatch(/:2: identities\[0\]: must have exactly one/);
    expect((await failure('version: 2\n')).message).toMatch(/:1: version: must be 1/);
    expect((await failure('profiles:\n  a:\n    keepEnv: [HOME]\n')).message).toMatch(/HOME is not one of with-secrets' inputs/);
  });

  it('reports YAML syntax errors with a line and without quoting the input', async () => {
    const f = await failure('profiles:\n  a:\n    env:\n      K: x\n      K: canary-value-123\n');
    expect(f.message).toMatch(/:5: invalid YAML: a key appears twice/);
    expect(f.message).not.toContain('canary');
  });

  it('refuses a key given twice in a JSON config too (JSON.parse would keep the last without a word), with its line', async () => {
    const f = await failure('{\n  "profiles": {\n    "codex": { "env": { "K": "a" } },\n    "codex": { "env": {} }\n  }\n}\n');
    expect(f.message).toMatch(/:4: invalid JSON: the key "codex" appears twice in the same map$/);
    expect((await failure('{"version": 1, "profiles": {"a": {"env": {"K": "x", "\\u004b": "canary-value-7"}}}}')).message).toMatch(/:1: invalid JSON: the key "K" appears twice/);
    expect((await failure('{"version": 1, "version": 2}')).message).toMatch(/the key "version" appears twice/);
  });

  it('a JSON config nested 10,000 levels deep is a config error, not a crash', async () => {
    const f = await failure(`{"version": 1, "profiles": ${'['.repeat(10000)}${']'.repeat(10000)}}`);
    expect(f.message).toMatch(/profiles: must be a map/);
  });

  it('checks key paths with the given checker', async () => {
    const p = write('sopsFile: /s\nprofiles:\n  a:\n    env:\n      K: "[bad"\n');
    await expect(loadConfig(p, { env, homeDir: home, checkKeyPath: () => { throw new Error('unclosed bracket'); } })).rejects.toThrow(/:5: profiles\.a\.env\.K: is not a valid key path: unclosed bracket/);
  });

  it('says where the config is expected when it is missing', async () => {
    mkdirSync(join(dir, 'none'), { recursive: true });
    await expect(loadConfig(join(dir, 'none', 'config.yaml'), { env, homeDir: home })).rejects.toThrow(/no config file at .*none\/config\.yaml/);
  });
});

describe('examples/config.yaml', () => {
  it('is a valid config (the documented example stays honest)', async () => {
    const path = join(import.meta.dirname, '..', '..', 'examples', 'config.yaml');
    const c = await loadConfig(path, { env: { XDG_RUNTIME_DIR: '/run/user/1000' }, homeDir: home });
    expect([...c.profiles.keys()]).toEqual(['codex', 'gh', 'deploy', 'tools']);
    expect(c.profiles.get('deploy')!.env.map((b) => b.ref.kind)).toEqual(['age', 'file', 'keyring']);
  });
});
