// The verified-MAC memo end to end: repeated launches read only the named values, and a file changed in a value no profile names still never starts the program.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, makeWorld, parseReport, runCli, type LaunchWorld } from './launch-harness.js';

const CANARY = 'CANARY-e2e-mac-memo-91b4';
let w: LaunchWorld;
let file: string;
let original: string;

beforeAll(async () => {
  w = makeWorld();
  file = await w.sops('memo.yaml', `wanted: ${CANARY}-wanted\nother: ${CANARY}-other\nlast: ${CANARY}-last\n`);
  original = readFileSync(file, 'utf8');
  w.config({ version: 1, sopsFile: file, profiles: { p: { env: { WANTED: 'wanted' } }, all: { envFrom: [{ sops: file }] } } });
});
afterAll(() => w.cleanup());

const launch = (profile = 'p') => runCli(['run', '-p', profile, '--', fixture('print-env.mjs')], { env: w.env() });

/** The parse cache entries' text (the cache lives under HOME/.cache in the test world). */
function cacheText(): string {
  const dir = join(w.home, '.cache', 'with-secrets', 'parsed');
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .map((n) => readFileSync(join(dir, n), 'utf8'))
    .join('\n');
}

describe('verified-MAC memo (launch)', () => {
  it('stores a memo after the first launch and keeps giving the right value; the cache never holds plaintext', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await launch();
      expect(r.stderr).toBe('');
      expect(parseReport(r.stdout).env['WANTED']).toBe(`${CANARY}-wanted`);
    }
    const text = cacheText();
    expect(text).toMatch(/\n[0-9a-f]{64}\n$/);
    expect(text).not.toContain(CANARY);
  });

  it('a byte changed in a value the profile does not name: the program never starts (exit 125)', async () => {
    await launch();
    const at = original.indexOf('data:', original.indexOf('other:')) + 5;
    writeFileSync(file, original.slice(0, at) + (original[at] === 'A' ? 'B' : 'A') + original.slice(at + 1));
    const r = await launch().finally(() => writeFileSync(file, original));
    expect(r.code).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toContain(CANARY);
  });

  it('a key removed that the profile does not name: MAC mismatch, exit 125', async () => {
    await launch();
    writeFileSync(file, original.replace(/^last: .*\n/m, ''));
    const r = await launch().finally(() => writeFileSync(file, original));
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('integrity check failed');
  });

  it('envFrom after a memo still gets every top-level value', async () => {
    await launch('all');
    const r = await launch('all');
    expect(r.stderr).toBe('');
    expect(parseReport(r.stdout).env).toMatchObject({ wanted: `${CANARY}-wanted`, other: `${CANARY}-other`, last: `${CANARY}-last` });
  });
});
