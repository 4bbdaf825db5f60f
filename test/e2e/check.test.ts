// `with-secrets check` end to end: real sops files and keys in a temporary HOME; problems named by profile, never a value.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/built-cli.js';
import { ageKeygen, makeSopsFile, writeKeyFile } from '../helpers/sops-fixture.js';

const CANARY = 'canary-check-7f3a9c41e2';
const CANARY_2 = 'canary-check-second-55e01b';

let home: string;
let env: Record<string, string>;

/** Writes the config and returns its path. */
function writeConfig(name: string, doc: unknown): string {
  const path = join(home, name);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

async function check(config: string, ...args: string[]): Promise<CliResult> {
  const r = await runCli(['--config', config, 'check', ...args], { env, cwd: home });
  expect(r.stdout + r.stderr).not.toContain(CANARY);
  expect(r.stdout + r.stderr).not.toContain(CANARY_2);
  return r;
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'ws-check-'));
  const key = ageKeygen();
  const keyFile = writeKeyFile(home, [key.secret]);
  await makeSopsFile({
    dir: home,
    name: 'secrets.yaml',
    plain: `svc:\n    token: ${CANARY}\n    nested:\n        a: ${CANARY_2}\nport: 8080\n`,
    recipients: [key.recipient],
  });
  await makeSopsFile({ dir: home, name: 'dev.env', plain: `DEV_TOKEN=${CANARY_2}\n`, recipients: [key.recipient] });
  // Values that open but cannot be put into an environment: one with a NUL byte, one over Linux's 128 KiB per variable.
  await makeSopsFile({ dir: home, name: 'unfit.yaml', plain: `nul: "${CANARY}\\0x"\nbig: ${'A'.repeat(140_000)}\n`, recipients: [key.recipient] });
  const other = ageKeygen();
  await makeSopsFile({ dir: home, name: 'other.yaml', plain: `token: ${CANARY}\n`, recipients: [other.recipient] });
  writeFileSync(join(home, 'tool'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(home, 'tool'), 0o755);
  env = { HOME: home, PATH: `${home}:/usr/bin:/bin`, SOPS_AGE_KEY_FILE: keyFile };
});

afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('with-secrets check', () => {
  it('passes a config whose every secret opens, and prints names only', async () => {
    const cfg = writeConfig('good.json', {
      version: 1,
      sopsFile: '~/secrets.yaml',
      profiles: {
        tool: { env: { TOKEN: 'svc.token', PORT: 'port' }, envFrom: ['~/dev.env'] },
        other: { command: join(home, 'tool'), env: { T: { sops: '~/secrets.yaml', key: 'svc.token' } } },
      },
    });
    const r = await check(cfg);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('ok: 2 profiles checked');
    const v = await check(cfg, '--verbose');
    expect(v.stdout).toMatch(/ok +tool: TOKEN/);
    expect(v.stdout).toMatch(/ok +tool: envFrom .*dev\.env/);
    expect(v.stdout).toMatch(/ok +other: command — .*tool/);
  });

  it('--json reports every result', async () => {
    const cfg = writeConfig('good2.json', { version: 1, sopsFile: '~/secrets.yaml', profiles: { tool: { env: { TOKEN: 'svc.token' } } } });
    const r = await check(cfg, '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; results: { profile?: string; check: string; status: string }[] };
    expect(report.ok).toBe(true);
    expect(report.results).toEqual(
      expect.arrayContaining([
        { check: 'config', status: 'ok' },
        expect.objectContaining({ profile: 'tool', check: 'command', status: 'ok' }),
        expect.objectContaining({ profile: 'tool', check: 'TOKEN', status: 'ok' }),
      ]),
    );
  });

  it('names each broken profile and what is wrong, exit 1', async () => {
    const cfg = writeConfig('bad.json', {
      version: 1,
      sopsFile: '~/secrets.yaml',
      profiles: {
        tool: { env: { TOKEN: 'svc.token' } },
        nokey: { command: join(home, 'tool'), env: { TOKEN: 'svc.missing' } },
        notscalar: { command: join(home, 'tool'), env: { TOKEN: 'svc.nested' } },
        nofile: { command: join(home, 'tool'), env: { TOKEN: { sops: '~/absent.yaml', key: 'a' } } },
        wrongkey: { command: join(home, 'tool'), env: { TOKEN: { sops: '~/other.yaml', key: 'token' } } },
        nocmd: { env: { TOKEN: 'svc.token' } },
        cmdgone: { command: join(home, 'no-such-tool'), env: { TOKEN: 'svc.token' } },
        nul: { command: join(home, 'tool'), env: { V: { sops: '~/unfit.yaml', key: 'nul' } } },
        big: { command: join(home, 'tool'), env: { V: { sops: '~/unfit.yaml', key: 'big' } } },
      },
    });
    const r = await check(cfg);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}nokey: TOKEN — .*svc\.missing/);
    expect(r.stdout).toMatch(/FAIL {2}notscalar: TOKEN/);
    expect(r.stdout).toMatch(/FAIL {2}nofile: file .*absent\.yaml/);
    expect(r.stdout).toMatch(/skip {2}nofile: TOKEN/);
    expect(r.stdout).toMatch(/FAIL {2}wrongkey: TOKEN/);
    // Without command: a profile may be meant for `run --profile` only: said, not failed. An explicit command must exist.
    expect(r.stdout).toMatch(/skip {2}nocmd: command — no command: and no nocmd on PATH: `with-secrets nocmd` would fail; `with-secrets run --profile nocmd -- CMD` works/);
    expect(r.stdout).toMatch(/FAIL {2}cmdgone: command — .*no-such-tool: no such file/);
    // What a launch would refuse after decrypting, check refuses too.
    expect(r.stdout).toMatch(/FAIL {2}nul: environment — the value of V \(from .*\) contains a NUL byte/);
    expect(r.stdout).toMatch(/FAIL {2}big: environment — V is 140003 bytes; one environment variable can hold at most 131072 bytes on Linux/);
    expect(r.stdout).not.toMatch(/FAIL {2}tool/);
    expect(r.stdout).toMatch(/problems in: (?=.*nokey)(?=.*notscalar)(?=.*nofile)(?=.*wrongkey)(?=.*cmdgone)(?=.*nul)(?=.*big)/);
    expect(r.stdout).not.toMatch(/problems in: .*nocmd/);
  });

  it('--no-decrypt opens no file: a wrong key passes, a missing file still fails', async () => {
    const cfg = writeConfig('nodecrypt.json', {
      version: 1,
      profiles: { wrongkey: { command: join(home, 'tool'), env: { TOKEN: { sops: '~/other.yaml', key: 'token' } } } },
    });
    expect((await check(cfg, '--no-decrypt')).code).toBe(0);
    expect((await check(cfg)).code).toBe(1);
    const missing = writeConfig('nodecrypt2.json', { version: 1, profiles: { x: { command: join(home, 'tool'), envFrom: ['~/absent.env'] } } });
    expect((await check(missing, '--no-decrypt')).code).toBe(1);
  });

  it('an invalid or missing config fails with the file named', async () => {
    const cfg = writeConfig('invalid.json', { version: 1, profiles: { tool: { env: { TOKEN: 'svc.token' }, bogus: 1 } } });
    const r = await check(cfg);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}config — .*invalid\.json.*bogus/);
    const m = await check(join(home, 'nope.json'));
    expect(m.code).toBe(1);
    expect(m.stdout).toContain('nope.json');
  });

  it('never prompts: with no identity at all it reports instead of waiting', async () => {
    const cfg = writeConfig('noid.json', { version: 1, sopsFile: '~/secrets.yaml', profiles: { tool: { env: { TOKEN: 'svc.token' } } } });
    const r = await runCli(['--config', cfg, 'check'], { env: { HOME: home, PATH: env.PATH! }, cwd: home });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}tool: TOKEN/);
    expect(r.stdout + r.stderr).not.toContain(CANARY);
  });
});
