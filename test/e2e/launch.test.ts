// The launcher end to end: exactly the named secrets reach the child, exit codes pass through, shims and nesting work.
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, mkdtempSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, fixture, makeWorld, NODE, parseReport, runCli, type LaunchWorld } from './launch-harness.js';

let w: LaunchWorld;
/** binfmt_misc handlers (qemu-user, Rosetta, Wine) may make the kernel run a foreign binary format. */
const binfmtHandlers = (): boolean => {
  try {
    return readdirSync('/proc/sys/fs/binfmt_misc').some((n) => n !== 'status' && n !== 'register');
  } catch {
    return false;
  }
};
let secretsFile: string;
let otherFile: string;
const CANARY = `canary-${Math.random().toString(36).slice(2)}-value`;

beforeAll(async () => {
  w = makeWorld();
  secretsFile = await w.sops(
    'secrets.yaml',
    `openai:\n  api_key: sk-openai-1\ngithub:\n  token: ${CANARY}\nnum: 42\nflt: 1.5\nyes: true\nnested:\n  deep:\n    x: 1\n`,
  );
  otherFile = await w.sops('dev.json', '{"DEV_A": "alpha", "DEV_B": "beta", "OPENAI_API_KEY": "from-envfrom"}');
  w.config({
    version: 1,
    sopsFile: secretsFile,
    profiles: {
      codex: { command: fixture('print-env.mjs'), env: { OPENAI_API_KEY: 'openai.api_key', NUM: 'num', FLT: 'flt', YES: '["yes"]' } },
      gh: { env: { GITHUB_TOKEN: 'github.token' } },
      tools: { envFrom: [otherFile], env: { OPENAI_API_KEY: 'openai.api_key' } },
      mapped: { env: { BAD: 'nested' } },
      missing: { env: { GONE: 'no.such.key' } },
      'print-env.mjs': { env: { GITHUB_TOKEN: 'github.token' } },
    },
  });
});
afterAll(() => w.cleanup());

describe('launch', () => {
  it('gives the child exactly the named secrets, formatted as sops exec-env does, and nothing from other profiles', async () => {
    const env = w.env({ PARENT_ONLY: 'p', SOPS_AGE_KEY_FILE: `${w.home}/.config/sops/age/keys.txt` });
    const r = await runCli(['codex', 'a1', '--flag', 'a b'], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = parseReport(r.stdout);
    expect(report.argv).toEqual(['a1', '--flag', 'a b']);
    const added = Object.keys(report.env).filter((k) => !(k in env));
    expect(added.sort()).toEqual(['FLT', 'NUM', 'OPENAI_API_KEY', 'WITH_SECRETS_INJECTED', 'YES']);
    expect(report.env).toMatchObject({ OPENAI_API_KEY: 'sk-openai-1', NUM: '42', FLT: '1.5', YES: 'true', PARENT_ONLY: 'p', WITH_SECRETS_INJECTED: 'OPENAI_API_KEY,NUM,FLT,YES' });
    expect(JSON.stringify(report.env)).not.toContain(CANARY);
    // with-secrets' own inputs never reach the child.
    expect(report.env).not.toHaveProperty('SOPS_AGE_KEY_FILE');
  });

  it('run --profile P -- CMD runs CMD as given with the profile\'s secrets', async () => {
    const r = await runCli(['run', '--profile', 'gh', '--', fixture('print-env.mjs'), 'x'], { env: w.env() });
    expect(r.code).toBe(0);
    const report = parseReport(r.stdout);
    expect(report.env['GITHUB_TOKEN']).toBe(CANARY);
    expect(report.env).not.toHaveProperty('OPENAI_API_KEY');
    expect(report.argv).toEqual(['x']);
  });

  it('takes the profile from the command\'s basename', async () => {
    const r = await runCli(['print-env.mjs'], { env: w.env() });
    expect(r.code).toBe(0);
    expect(parseReport(r.stdout).env['GITHUB_TOKEN']).toBe(CANARY);
  });

  it('env wins over envFrom; envFrom brings every top-level key', async () => {
    const r = await runCli(['run', '-p', 'tools', '--', 'print-env.mjs'], { env: w.env() });
    expect(r.code).toBe(0);
    expect(parseReport(r.stdout).env).toMatchObject({ DEV_A: 'alpha', DEV_B: 'beta', OPENAI_API_KEY: 'sk-openai-1' });
  });

  it('the secret wins over the parent\'s variable; --keep-existing reverses it; --verbose names the collision only', async () => {
    const env = w.env({ OPENAI_API_KEY: 'parent-value' });
    const a = await runCli(['--verbose', 'codex'], { env });
    expect(parseReport(a.stdout).env['OPENAI_API_KEY']).toBe('sk-openai-1');
    expect(a.stderr).toMatch(/replaced the parent's OPENAI_API_KEY with the secret/);
    expect(a.stderr).not.toContain('sk-openai-1');
    expect(a.stderr).not.toContain('parent-value');
    const b = await runCli(['--keep-existing', 'codex'], { env });
    expect(parseReport(b.stdout).env['OPENAI_API_KEY']).toBe('parent-value');
    expect(parseReport(b.stdout).env['WITH_SECRETS_INJECTED']).toBe('NUM,FLT,YES');
  });

  it('--pristine passes only the pristine set plus the secrets', async () => {
    const env = w.env({ TERM: 'xterm', LC_ALL: 'C', EXTRA: 'x', SSH_AUTH_SOCK: '/s' });
    const r = await runCli(['--pristine', 'codex'], { env });
    expect(r.code).toBe(0);
    expect(Object.keys(parseReport(r.stdout).env).sort()).toEqual(
      ['FLT', 'HOME', 'LANG', 'LC_ALL', 'NUM', 'OPENAI_API_KEY', 'PATH', 'SSH_AUTH_SOCK', 'TERM', 'TMPDIR', 'WITH_SECRETS_INJECTED', 'YES'].sort(),
    );
  });

  it('a profile with pristine: true starts from the pristine set too', async () => {
    const cfg = `${w.root}/pristine.json`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(cfg, JSON.stringify({ version: 1, sopsFile: secretsFile, profiles: { clean: { pristine: true, env: { GITHUB_TOKEN: 'github.token' } } } }));
    const r = await runCli(['--config', cfg, 'run', '-p', 'clean', '--', fixture('print-env.mjs')], { env: w.env({ EXTRA: 'x' }) });
    expect(r.code).toBe(0);
    const env = parseReport(r.stdout).env;
    expect(env).not.toHaveProperty('EXTRA');
    expect(env['GITHUB_TOKEN']).toBe(CANARY);
  });

  it('passes exit codes 0, 1 and 42 through', async () => {
    for (const code of [0, 1, 42]) {
      const r = await runCli(['run', '-p', 'gh', '--', fixture('exit-with.sh'), 'code', String(code)], { env: w.env() });
      expect(r.code).toBe(code);
      expect(r.stderr).toBe('');
    }
  });

  it('runs a script without #! through /bin/sh, as a shell would', async () => {
    const script = w.exe(w.bin, 'noshebang', 'echo "token=${GITHUB_TOKEN:+set} arg=$1"\nexit 7\n');
    const r = await runCli(['run', '-p', 'gh', '--', script, 'one'], { env: w.env() });
    expect(r.stdout).toBe('token=set arg=one\n');
    expect(r.code).toBe(7);
  });

  it('125 for its own failures (unknown profile, no identity, map value, missing key), naming the problem without values', async () => {
    const unknown = await runCli(['nosuch'], { env: w.env() });
    expect(unknown.code).toBe(125);
    expect(unknown.stderr).toMatch(/^with-secrets: no profile "nosuch" in .*config\.yaml \(profiles: codex, gh, tools, mapped, missing, print-env\.mjs\)\nhint: /);
    const map = await runCli(['run', '-p', 'mapped', '--', 'true'], { env: w.env() });
    expect(map.code).toBe(125);
    expect(map.stderr).toMatch(/BAD \(nested in .*secrets\.yaml\) is a map, not a single value/);
    const missing = await runCli(['run', '-p', 'missing', '--', 'true'], { env: w.env() });
    expect(missing.code).toBe(125);
    expect(missing.stderr).toMatch(/no\.such\.key not found .*needed for GONE in profile missing/);
    const noKey = await runCli(['run', '-p', 'gh', '--', 'true'], { env: w.env({ XDG_CONFIG_HOME: `${w.root}/elsewhere`, WITH_SECRETS_CONFIG: `${w.home}/.config/with-secrets/config.yaml` }) });
    expect(noKey.code).toBe(125);
    expect(noKey.stderr).toMatch(/no identity opened .*secrets\.yaml/);
    for (const r of [unknown, map, missing, noKey]) {
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toContain(CANARY);
      expect(r.stderr).not.toContain('sk-openai-1');
    }
  });

  it('on a Node without process.getBuiltinModule (older than 20.16) says which Node it needs (125), before doing anything', async () => {
    const { spawnSync } = await import('node:child_process');
    const { writeFileSync } = await import('node:fs');
    const preload = `${w.root}/old-node.cjs`;
    writeFileSync(preload, 'delete process.getBuiltinModule;\n');
    const r = spawnSync(NODE, ['-r', preload, CLI, 'codex'], { env: w.env(), encoding: 'utf8' });
    expect(r.status).toBe(125);
    expect(r.stderr).toBe(`with-secrets: needs Node.js 20.16 or later (this is ${spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim()}); upgrade Node, or use Node 22\n`);
    expect(r.stdout).toBe('');
  });

  it('126 for a program that is not executable, 127 for one that does not exist', async () => {
    const plain = `${w.bin}/plain`;
    w.exe(w.bin, 'plain', '#!/bin/sh\n');
    const { chmodSync } = await import('node:fs');
    chmodSync(plain, 0o644);
    const denied = await runCli(['run', '-p', 'gh', '--', plain], { env: w.env() });
    expect(denied.code).toBe(126);
    expect(denied.stderr).toMatch(/plain is not executable/);
    const dir = await runCli(['run', '-p', 'gh', '--', w.bin], { env: w.env() });
    expect(dir.code).toBe(126);
    const missing = await runCli(['run', '-p', 'gh', '--', 'no-such-program-xyz'], { env: w.env() });
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/no-such-program-xyz: command not found/);
    const badInterp = w.exe(w.bin, 'badinterp', '#!/nonexistent/interp\n');
    const bi = await runCli(['run', '-p', 'gh', '--', badInterp], { env: w.env() });
    expect(bi.code).toBe(126);
    expect(bi.stderr).toMatch(/bad interpreter/);
  });

  it('refuses subcommand names as profiles and unknown keys, with file, line and key (125)', async () => {
    const cfg = `${w.root}/bad.yaml`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(cfg, `sopsFile: ${secretsFile}\nprofiles:\n  check:\n    env: {}\n`);
    const r = await runCli(['--config', cfg, 'codex'], { env: w.env() });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/bad\.yaml:3: profiles\.check: "check" is a with-secrets subcommand/);
    writeFileSync(cfg, `sopsFile: ${secretsFile}\nprofiles:\n  codex:\n    evn: {}\n`);
    const u = await runCli(['run', '--config', cfg, '--', 'codex'], { env: w.env() });
    expect(u.stderr).toMatch(/bad\.yaml:4: profiles\.codex\.evn: unknown key "evn"/);
  });

  it('--dry-run prints names and sources, never values, and launches nothing', async () => {
    const r = await runCli(['--dry-run', 'run', '-p', 'gh', '--', fixture('exit-with.sh'), 'code', '9'], { env: w.env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^profile gh \(.*config\.yaml\)\ncommand .*exit-with\.sh\nGITHUB_TOKEN <- .*secrets\.yaml: github\.token\n$/);
    expect(r.stdout + r.stderr).not.toContain(CANARY);
  });

  it('refuses what the kernel would refuse (126, a message, no abort): a CRLF #! line, a macOS binary, a cut-off ELF file', async () => {
    // On the execve path a failing exec aborts Node, which may dump a core holding the secrets: these must never get that far.
    const dir = mkdtempSync(join(w.home, 'exec-'));
    const files: [string, string | Buffer, RegExp][] = [
      ['crlf.sh', '#!/bin/sh\r\necho hi\r\n', /has a bad interpreter: \/bin\/sh\\r does not exist \(the #! line ends in a carriage return/],
      ['cut-elf', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), /cannot be executed \(a truncated or damaged ELF file\)/],
      ...(binfmtHandlers() ? [] : [['macho', Buffer.concat([Buffer.from([0xca, 0xfe, 0xba, 0xbe]), Buffer.alloc(60)]), /is a macOS \(Mach-O\) binary/] as [string, Buffer, RegExp]]),
    ];
    for (const [name, content, message] of files) {
      const path = join(dir, name);
      writeFileSync(path, content, { mode: 0o755 });
      const r = await runCli(['run', '-p', 'gh', '--', path], { env: w.env() });
      expect(r.stderr, name).toMatch(message);
      expect(r.stderr, name).not.toMatch(/execve|abort|internal error/i);
      expect(r.code, name).toBe(126);
      expect(r.stdout + r.stderr).not.toContain(CANARY);
    }
  });

  it('with execve the program replaces with-secrets (same pid), unless it changed moments ago: then it is spawned', (ctx) => {
    if (spawnSync(NODE, ['-p', 'typeof process.execve'], { encoding: 'utf8' }).stdout.trim() !== 'function') {
      console.log('skipped on the spawn path: this Node has no execve');
      ctx.skip();
    }
    const old = spawnSync(NODE, [CLI, 'run', '-p', 'gh', '--', '/bin/sh', '-c', 'echo $$'], { env: w.env(), encoding: 'utf8' });
    expect(old.stdout.trim()).toBe(String(old.pid));
    const fresh = join(mkdtempSync(join(w.home, 'fresh-')), 'fresh.sh');
    writeFileSync(fresh, '#!/bin/sh\necho $$\n', { mode: 0o755 });
    const f = spawnSync(NODE, [CLI, 'run', '-p', 'gh', '--', fresh], { env: w.env(), encoding: 'utf8' });
    expect(f.status, f.stderr).toBe(0);
    expect(f.stdout.trim()).toMatch(/^\d+$/);
    expect(f.stdout.trim()).not.toBe(String(f.pid));
  });

  it('a program still being written (ETXTBSY): 126 and what to do, never an aborted Node', async () => {
    // Just written, so even on the execve path it is spawned: execve would abort Node on ETXTBSY.
    const busy = join(mkdtempSync(join(w.home, 'busy-')), 'tool');
    copyFileSync('/bin/true', busy);
    chmodSync(busy, 0o755);
    const writer = openSync(busy, 'a');
    try {
      const r = await runCli(['run', '-p', 'gh', '--', busy], { env: w.env() });
      expect(r.stderr).toBe(`with-secrets: cannot start ${busy}: the file is being written (ETXTBSY)\nhint: run it again once whatever writes it (a build, a download) has finished\n`);
      expect(r.code).toBe(126);
    } finally {
      closeSync(writer);
    }
  });

  it('prints nothing of its own under Node deprecation flags (the Node 20 spawn path uses a deprecated-in-docs binding)', async () => {
    for (const flag of ['--pending-deprecation', '--throw-deprecation']) {
      const r = await runCli(['run', '-p', 'gh', '--', 'sh', '-c', 'test -n "$GITHUB_TOKEN" && exit 4'], { env: w.env({ NODE_OPTIONS: flag }) });
      expect(r.stderr, flag).toBe('');
      expect(r.code, flag).toBe(4);
    }
  });
});

describe('shims and nesting', () => {
  it('skips a PATH shim named like the target, so it never loops', async () => {
    // The shim calls with-secrets again; resolution must pass over it to the real program.
    w.exe(w.shims, 'gh', `#!/bin/sh\n# with-secrets-shim\nexec "${NODE}" "${CLI}" gh "$@"\n`);
    w.exe(w.bin, 'gh', `#!/bin/sh\nexec "${fixture('print-env.mjs')}" "$@"\n`);
    const viaShim = await runCli([], { env: w.env() }).then(() => null);
    void viaShim;
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('gh', ['hello'], { env: w.env(), encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    const report = parseReport(r.stdout);
    expect(report.env['GITHUB_TOKEN']).toBe(CANARY);
    expect(report.argv).toEqual(['hello']);
  });

  it('a wrapped program starting another wrapped program: the inner one gets its own secrets, not the outer ones', async () => {
    w.exe(w.shims, 'gh', `#!/bin/sh\n# with-secrets-shim\nexec "${NODE}" "${CLI}" gh "$@"\n`);
    w.exe(w.bin, 'gh', `#!/bin/sh\nexec "${fixture('print-env.mjs')}" "$@"\n`);
    // codex (outer, OPENAI_API_KEY…) runs `gh` by name, through the shim.
    const r = await runCli(['run', '-p', 'codex', '--', 'sh', '-c', 'test -n "$OPENAI_API_KEY" && exec gh inner'], { env: w.env() });
    expect(r.code).toBe(0);
    const report = parseReport(r.stdout);
    expect(report.env['GITHUB_TOKEN']).toBe(CANARY);
    for (const outer of ['OPENAI_API_KEY', 'NUM', 'FLT', 'YES']) expect(report.env).not.toHaveProperty(outer);
    expect(report.env['WITH_SECRETS_INJECTED']).toBe('GITHUB_TOKEN');
  });

  it('127 when only shims of that name are on PATH', async () => {
    w.exe(w.shims, 'lonely', `#!/bin/sh\n# with-secrets-shim\nexec "${NODE}" "${CLI}" lonely "$@"\n`);
    const r = await runCli(['run', '-p', 'gh', '--', 'lonely'], { env: w.env() });
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/only with-secrets shims/);
  });
});

describe('list', () => {
  it('prints the profiles and their variable names, no values', async () => {
    const r = await runCli(['list'], { env: w.env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('codex');
    expect(r.stdout).toMatch(/OPENAI_API_KEY/);
    expect(r.stdout).toMatch(/GITHUB_TOKEN/);
    expect(r.stdout + r.stderr).not.toContain(CANARY);
  });

  it("a profile's command: that cannot start names the config entry; arguments in it get their own hint", async () => {
    const cfg = join(mkdtempSync(join(w.home, 'cmd-')), 'config.json');
    writeFileSync(cfg, JSON.stringify({ version: 1, sopsFile: secretsFile, profiles: { withargs: { command: 'print-env.mjs --full-auto', env: {} }, gone: { command: '/nonexistent/tool', env: {} } } }));
    const a = await runCli(['--config', cfg, 'withargs'], { env: w.env() });
    expect(a.code).toBe(127);
    expect(a.stderr).toContain(`print-env.mjs --full-auto: command not found (profiles.withargs.command in ${cfg})`);
    expect(a.stderr).toContain('hint: command: names the program only (a path or a name on PATH); give its arguments after it when you run it');
    const g = await runCli(['--config', cfg, 'gone'], { env: w.env() });
    expect(g.code).toBe(127);
    expect(g.stderr).toContain(`/nonexistent/tool: no such file (profiles.gone.command in ${cfg})`);
    expect(g.stderr).toContain('hint: fix command: in the profile, or install the program');
  });

  it('a path this environment cannot expand ($XDG_RUNTIME_DIR unset) fails only the profile that uses it', async () => {
    const cfg = join(mkdtempSync(join(w.home, 'runtime-')), 'config.json');
    writeFileSync(cfg, JSON.stringify({ version: 1, sopsFile: secretsFile, profiles: { db: { env: { DB: { file: '$XDG_RUNTIME_DIR/secrets/db' } } }, dbs: { env: { S: { sops: '$XDG_RUNTIME_DIR/s.yaml', key: 'a' } } }, gh: { env: { GITHUB_TOKEN: 'github.token' } } } }));
    const env = w.env(); // no XDG_RUNTIME_DIR
    const gh = await runCli(['--config', cfg, 'run', '-p', 'gh', '--', 'sh', '-c', 'test -n "$GITHUB_TOKEN"'], { env });
    expect(gh.code, gh.stderr).toBe(0);
    expect((await runCli(['--config', cfg, 'list'], { env })).code).toBe(0);
    const db = await runCli(['--config', cfg, 'run', '-p', 'db', '--', 'true'], { env });
    expect(db.code).toBe(125);
    expect(db.stderr).toContain('profiles.db.env.DB.file: $XDG_RUNTIME_DIR is not set');
    const check = await runCli(['--config', cfg, 'check', '--no-decrypt'], { env });
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/FAIL {2}db: file \$XDG_RUNTIME_DIR\/secrets\/db — profiles\.db\.env\.DB\.file: \$XDG_RUNTIME_DIR is not set/);
    expect(check.stdout).not.toMatch(/FAIL {2}gh/);
    // doctor lists the files it can open, not a path it could only read relative to the current directory.
    const doctor = await runCli(['--config', cfg, 'doctor'], { env });
    expect(doctor.stdout).not.toContain('$XDG_RUNTIME_DIR/s.yaml');
  });

  it('list refuses a key path that run and check refuse, with the line', async () => {
    const cfg = join(mkdtempSync(join(w.home, 'badkey-')), 'config.yaml');
    writeFileSync(cfg, `sopsFile: ${secretsFile}\nprofiles:\n  codex:\n    env:\n      OPENAI_API_KEY: '["openai"]['\n`);
    const r = await runCli(['--config', cfg, 'list'], { env: w.env() });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/config\.yaml:5: profiles\.codex\.env\.OPENAI_API_KEY: .*key path/);
  });
});
