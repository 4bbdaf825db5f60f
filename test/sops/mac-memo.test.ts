// The verified-MAC memo: a launch decrypts only the named values of a file whose exact bytes and parse passed the full MAC check before; anything else gets the full check.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/age/provider.js';
import { parseAgeSecretKey } from '../../src/age/secret-key.js';
import { WithSecretsError } from '../../src/errors.js';
import { lookupPath } from '../../src/sops/key-path.js';
import { checkMacMemo, computeMacMemo } from '../../src/sops/mac-memo.js';
import { openSopsFile, type OpenOptions, type WantedValues } from '../../src/sops/open.js';
import { createParseCache } from '../../src/sops/parse-cache.js';
import type { MapNode } from '../../src/sops/tree.js';
import { ageKeygen, makeSopsFile } from '../helpers/sops-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'ws-mac-memo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const CANARY = 'CANARY-mac-memo-5d21';
const alice = ageKeygen();
const ids = (secret = alice.secret): OpenOptions['identities'] => staticProvider([{ label: 'test key', identities: [parseAgeSecretKey(secret)!] }]);
const PLAIN = `wanted: ${CANARY}-wanted\nother: ${CANARY}-other\nnested:\n    deep: ${CANARY}-deep\nlast: ${CANARY}-last\n`;
const WANTED: WantedValues = { keys: ['wanted', 'nested'], topLevel: false };

let n = 0;
/** A fresh sops file and cache directory. */
async function setup(): Promise<{ path: string; text: string; dir: string; dataKey: Uint8Array }> {
  const caseDir = join(root, `case${n++}`);
  mkdirSync(caseDir);
  const f = await makeSopsFile({ dir: caseDir, name: 'secrets.yaml', plain: PLAIN, recipients: [alice.recipient] });
  return { path: f.path, text: f.text, dir: join(caseDir, 'cache'), dataKey: f.dataKey };
}

const open = (path: string, dir: string, extra: Partial<OpenOptions> = {}) =>
  openSopsFile(path, { identities: ids(), cache: createParseCache({ dir }), wanted: WANTED, ...extra });

const value = (branches: readonly MapNode[], key: string): unknown => {
  const node = lookupPath(branches[0]!, key.split('.'));
  return 'value' in node ? node.value : node.type;
};

/** The one entry file of a cache directory, split into its JSON line and the rest (the memo tag). */
function entry(dir: string): { file: string; line: string; rest: string } {
  const names = readdirSync(dir).filter((x) => x.endsWith('.json'));
  expect(names).toHaveLength(1);
  const file = join(dir, names[0]!);
  const text = readFileSync(file, 'utf8');
  const nl = text.indexOf('\n');
  return { file, line: nl < 0 ? text : text.slice(0, nl), rest: nl < 0 ? '' : text.slice(nl + 1) };
}

async function failure(p: Promise<unknown>): Promise<WithSecretsError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(WithSecretsError);
  expect(String((e as Error).message)).not.toContain(CANARY);
  return e as WithSecretsError;
}

describe('verified-MAC memo', () => {
  it('first launch: full check, then a memo; next launch: only the named values decrypted', async () => {
    const { path, dir } = await setup();
    const first = await open(path, dir);
    expect(first.partial).toBe(false);
    expect(value(first.branches, 'other')).toBe(`${CANARY}-other`);
    const { rest } = entry(dir);
    expect(rest.trim()).toMatch(/^[0-9a-f]{64}$/);

    const second = await open(path, dir);
    expect(second.partial).toBe(true);
    expect(second.macVerified).toBe(true);
    expect(value(second.branches, 'wanted')).toBe(`${CANARY}-wanted`);
    expect(value(second.branches, 'nested.deep')).toBe(`${CANARY}-deep`);
    // Not named: left encrypted.
    expect(String(value(second.branches, 'other'))).toMatch(/^ENC\[AES256_GCM,/);
    expect(String(value(second.branches, 'last'))).toMatch(/^ENC\[AES256_GCM,/);
  });

  it('never holds plaintext or the data key (canary)', async () => {
    const { path, dir, dataKey } = await setup();
    await open(path, dir);
    await open(path, dir);
    const text = readFileSync(entry(dir).file, 'utf8');
    expect(text).not.toContain(CANARY);
    expect(text).not.toContain(Buffer.from(dataKey).toString('hex'));
    expect(text).not.toContain(Buffer.from(dataKey).toString('base64'));
  });

  it('a changed byte in a value the profile does not name still fails: the file hash changes, so the full check runs', async () => {
    const { path, text, dir } = await setup();
    await open(path, dir);
    expect((await open(path, dir)).partial).toBe(true);
    const at = text.indexOf('data:', text.indexOf('other:')) + 5;
    writeFileSync(path, text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1));
    expect(['decrypt-failed', 'mac-mismatch']).toContain((await failure(open(path, dir))).code);
  });

  it('a removed key (every remaining value authenticates, only the MAC catches it) fails', async () => {
    const { path, text, dir } = await setup();
    await open(path, dir);
    expect((await open(path, dir)).partial).toBe(true);
    writeFileSync(path, text.replace(/^last: .*\n/m, ''));
    expect((await failure(open(path, dir))).code).toBe('mac-mismatch');
  });

  it('a stored parse changed behind a valid tag is never used: the tag also binds the parse, and the file is read again', async () => {
    const { path, dir } = await setup();
    await open(path, dir);
    const { file, line, rest } = entry(dir);
    const doc = JSON.parse(line) as { branches: { items: { key?: string }[] }[] };
    doc.branches[0]!.items = doc.branches[0]!.items.filter((i) => i.key !== 'last');
    writeFileSync(file, `${JSON.stringify(doc)}\n${rest}`, { mode: 0o600 });
    // The changed parse fails the full MAC check; the entry is dropped and the file itself gives every value.
    const o = await open(path, dir);
    expect(o.partial).toBe(false);
    expect(value(o.branches, 'last')).toBe(`${CANARY}-last`);
    expect(entry(dir).line).toContain('"last"');
  });

  it('ignores a forged or garbage tag, or one made under another key, and stores the right one', async () => {
    const { path, dir } = await setup();
    await open(path, dir);
    const { file, line, rest } = entry(dir);
    const good = rest.trim();
    const other = computeMacMemo(new Uint8Array(32).fill(7), { path, contentSha256: '0'.repeat(64), entrySha256: '0'.repeat(64) });
    for (const forged of ['0'.repeat(64), 'not a tag', good.toUpperCase(), other, `${good}\n${good}`]) {
      writeFileSync(file, `${line}\n${forged}\n`, { mode: 0o600 });
      const o = await open(path, dir);
      expect(o.partial).toBe(false);
      expect(value(o.branches, 'last')).toBe(`${CANARY}-last`);
      expect(entry(dir).rest.trim()).toBe(good);
    }
  });

  it('without `wanted`, or with ignoreMac, everything is decrypted; ignoreMac stores no memo', async () => {
    const { path, dir } = await setup();
    const ignored = await open(path, dir, { ignoreMac: true });
    expect(ignored.partial).toBe(false);
    expect(ignored.macVerified).toBe(false);
    expect(entry(dir).rest).toBe('');
    await open(path, dir);
    const { wanted: _w, ...noWanted } = { identities: ids(), cache: createParseCache({ dir }), wanted: WANTED };
    const full = await openSopsFile(path, noWanted);
    expect(full.partial).toBe(false);
    expect(value(full.branches, 'last')).toBe(`${CANARY}-last`);
    const again = await open(path, dir, { ignoreMac: true });
    expect(again.partial).toBe(false);
  });

  it('envFrom (topLevel) decrypts every top-level value; a key that is not there selects nothing', async () => {
    const { path, dir } = await setup();
    await open(path, dir);
    const o = await open(path, dir, { wanted: { keys: ['missing.key', '["bad'], topLevel: true } });
    expect(o.partial).toBe(true);
    expect(value(o.branches, 'other')).toBe(`${CANARY}-other`);
    expect(value(o.branches, 'nested.deep')).toBe(`${CANARY}-deep`);
  });
});

describe('computeMacMemo / checkMacMemo', () => {
  const binding = { path: '/a/b.yaml', contentSha256: 'ab'.repeat(32), entrySha256: 'cd'.repeat(32) };
  const key = new Uint8Array(32).fill(1);
  it('verifies its own tag and nothing else', () => {
    const tag = computeMacMemo(key, binding);
    expect(tag).toMatch(/^[0-9a-f]{64}$/);
    expect(checkMacMemo(tag, key, binding)).toBe(true);
    expect(checkMacMemo(tag, new Uint8Array(32).fill(2), binding)).toBe(false);
    for (const changed of [{ path: '/a/c.yaml' }, { contentSha256: 'ac'.repeat(32) }, { entrySha256: 'ce'.repeat(32) }]) {
      expect(checkMacMemo(tag, key, { ...binding, ...changed })).toBe(false);
    }
    expect(checkMacMemo(undefined, key, binding)).toBe(false);
    expect(checkMacMemo('zz', key, binding)).toBe(false);
    expect(checkMacMemo(tag.toUpperCase(), key, binding)).toBe(false);
  });
});
