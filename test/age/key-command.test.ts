// SOPS_AGE_KEY_CMD and `command:` identities: shlex-style splitting, no shell, failures that never show output.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitShellWords } from '../../src/age/shell-split.js';
import { runKeyCommand } from '../../src/age/key-command.js';
import { createIdentityProvider } from '../../src/age/sources.js';
import { isWithSecretsError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CANARY = 'CANARY-OUTPUT-9931';

describe('splitShellWords (google/shlex rules)', () => {
  it.each([
    ['pass show age/key', ['pass', 'show', 'age/key']],
    ['  a   b  ', ['a', 'b']],
    [`a 'b c' "d e"`, ['a', 'b c', 'd e']],
    [`a\\ b c`, ['a b', 'c']],
    [`"x\\"y" 'p\\q'`, ['x"y', 'p\\q']],
    [`a"b"'c'd`, ['abcd']],
    [`cmd # comment here`, ['cmd']],
    [`a#b`, ['a#b']],
    [`echo $HOME ~ *`, ['echo', '$HOME', '~', '*']],
    [`''`, ['']],
  ])('%s', (line, words) => {
    expect(splitShellWords(line, 'T')).toEqual(words);
  });

  it.each([`'open`, `"open`, `trailing\\`])('rejects %s without quoting it', (line) => {
    let err: unknown;
    try {
      splitShellWords(`${CANARY} ${line}`, 'SOPS_AGE_KEY_CMD');
    } catch (e) {
      err = e;
    }
    expect(isWithSecretsError(err, 'usage')).toBe(true);
    expect((err as Error).message).toMatch(/^SOPS_AGE_KEY_CMD: /);
    expect((err as Error).message).not.toContain(CANARY);
  });
});

describe('runKeyCommand', () => {
  const script = (name: string, body: string): string => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o700 });
    chmodSync(p, 0o700);
    return p;
  };

  it('returns stdout; stdin is closed', async () => {
    const p = script('ok.sh', 'cat; echo out');
    expect((await runKeyCommand([p], { env: {}, timeoutMs: 10_000, label: 'T' })).toString()).toBe('out\n');
  });

  it('a failing command names the command and exit code, not its output', async () => {
    const p = script('fail.sh', `echo ${CANARY}; exit 3`);
    const err = await runKeyCommand([p], { env: {}, timeoutMs: 10_000, label: `command: ${p}` }).catch((e: unknown) => e);
    expect(isWithSecretsError(err, 'io')).toBe(true);
    expect((err as Error).message).toBe(`command: ${p}: exited with code 3`);
    expect(JSON.stringify(err) + String((err as Error).stack)).not.toContain(CANARY);
  });

  it('a missing command says so', async () => {
    const err = await runKeyCommand(['/nonexistent/cmd'], { env: {}, timeoutMs: 10_000, label: 'T' }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('T: command not found');
  });

  it('a hanging command is killed after the timeout', async () => {
    const p = script('hang.sh', 'exec sleep 60');
    const err = await runKeyCommand([p], { env: {}, timeoutMs: 300, label: 'T' }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('T: timed out after 0.3 s');
  });

  it('gives up at the time limit even when a process it started keeps its output open', async () => {
    const p = script('hang-bg.sh', 'sleep 5 2>/dev/null &\nexec sleep 5 2>/dev/null');
    const started = Date.now();
    const err = await runKeyCommand([p], { env: {}, timeoutMs: 300, label: 'T' }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('T: timed out after 0.3 s');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('takes what a command printed when it exits, though a process it started keeps the output open', async () => {
    const p = script('leaves-bg.sh', 'echo key-line\nsleep 5 2>/dev/null &\nexit 0');
    const started = Date.now();
    expect((await runKeyCommand([p], { env: {}, timeoutMs: 20_000, label: 'T' })).toString()).toBe('key-line\n');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('passes the environment and runs without a shell', async () => {
    const p = script('env.sh', 'printf "%s|%s" "$FOO" "$1"');
    expect((await runKeyCommand([p, '$FOO;x'], { env: { FOO: 'bar' }, timeoutMs: 10_000, label: 'T' })).toString()).toBe('bar|$FOO;x');
  });
});

describe('SOPS_AGE_KEY_CMD through the provider', () => {
  let harness = '';
  beforeAll(async () => {
    harness = join(dir, 'h.mjs');
    writeFileSync(
      join(dir, 'h.ts'),
      `import { createIdentityProvider } from ${JSON.stringify(join(__dirname, '../../src/age/sources.ts'))};
const p = createIdentityProvider({ env: process.env, homeDir: '/nonexistent', specs: [], interactive: false, notes: (m) => process.stderr.write('note: ' + m + '\\n') });
let n = 0; for await (const s of p.sources()) n += s.identities.length;
process.stdout.write(JSON.stringify({ n, report: p.report() }) + '\\n');`,
    );
    await build({ entryPoints: [join(dir, 'h.ts')], outfile: harness, bundle: true, format: 'esm', platform: 'node', logLevel: 'warning' });
  });

  it("runs once, and its stderr passes through to with-secrets' stderr", () => {
    const key = execFileSync('age-keygen', [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const kf = join(dir, 'k.txt');
    writeFileSync(kf, key, { mode: 0o600 });
    const r = spawnSync(process.execPath, [harness], {
      env: { PATH: process.env['PATH'], SOPS_AGE_KEY_CMD: `sh -c 'echo "touch your key" >&2; cat "$0"' '${kf}'` },
      encoding: 'utf8',
    });
    expect(r.stderr).toContain('touch your key');
    expect(JSON.parse(r.stdout)).toEqual({ n: 1, report: ['SOPS_AGE_KEY_CMD: 1 identity'] });
  });

  it('a failing SOPS_AGE_KEY_CMD is reported naming the command, without its output', async () => {
    const notes: string[] = [];
    const p = createIdentityProvider({
      env: { PATH: process.env['PATH'], SOPS_AGE_KEY_CMD: `sh -c 'echo ${CANARY}; exit 1'` },
      homeDir: dir,
      specs: [],
      interactive: false,
      notes: (m) => notes.push(m),
    });
    for await (const _ of p.sources()) void _;
    expect(p.report()).toEqual(['SOPS_AGE_KEY_CMD: failed: SOPS_AGE_KEY_CMD (sh): exited with code 1']);
    expect(notes.join('\n')).not.toContain(CANARY);
  });
});
