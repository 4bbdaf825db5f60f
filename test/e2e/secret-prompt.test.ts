// `secret set` on a real terminal: a hidden prompt (nothing typed is echoed), Ctrl-C cancels and changes nothing.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, NODE, runCli } from '../helpers/built-cli.js';
import { runInPty } from '../helpers/pty.js';

const CANARY = 'canary-prompt-2b8e90';

let home: string;
let env: Record<string, string>;
let secrets: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'ws-prompt-'));
  env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TERM: 'dumb' };
  expect((await runCli(['init'], { env, cwd: home })).code).toBe(0);
  secrets = join(home, '.config', 'with-secrets', 'secrets.yaml');
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('secret set on a terminal', () => {
  it('asks without echo and stores what was typed', async () => {
    const r = await runInPty([NODE, CLI, 'secret', 'set', 'github.token'], [{ expect: 'value for github.token (input hidden): ', send: `${CANARY}\r` }], env);
    expect(r.code).toBe(0);
    expect(r.output).toContain('input hidden');
    expect(r.output).not.toContain(CANARY);
    const d = await runCli(['decrypt', '--extract', 'github.token', secrets], { env, cwd: home });
    expect(d.stdout).toBe(CANARY);
  });

  it('Ctrl-C at the prompt cancels: exit 2, file unchanged', async () => {
    const before = readFileSync(secrets);
    const r = await runInPty([NODE, CLI, 'secret', 'set', 'other'], [{ expect: 'input hidden', send: 'abc\u0003' }], env);
    expect(r.code).toBe(2);
    expect(r.output).toContain('cancelled');
    expect(readFileSync(secrets).equals(before)).toBe(true);
  });

  it('refuses several lines pasted at the prompt instead of keeping the first (a PEM key cut short)', async () => {
    const r = await runInPty([NODE, CLI, 'secret', 'set', 'pasted'], [{ expect: 'input hidden', send: 'line1\nline2\nline3\n' }], env);
    expect(r.code).toBe(2);
    expect(r.output).toContain('more than one line was typed or pasted; this prompt takes one line');
    expect(r.output).not.toContain('line2');
    const list = await runCli(['secret', 'list'], { env });
    expect(list.stdout).not.toMatch(/^pasted/m);
  });
});
