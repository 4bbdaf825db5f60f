// The parsed-document cache: hits only on an exact match, ignores stale, damaged or unsafe entries, never stores plaintext.
import { createCipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createParseCache, parseCacheDir, type ParsedDocument } from '../../src/sops/parse-cache.js';
import type { MapNode } from '../../src/sops/tree.js';

const root = mkdtempSync(join(tmpdir(), 'ws-parse-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const CANARY = 'CANARY-parse-cache-7f3e9a';

/** An ENC[] value as sops writes it (AES-256-GCM, 32-byte IV), so the tree looks like a real encrypted one. */
function encrypt(plain: string): string {
  const key = randomBytes(32);
  const iv = randomBytes(32);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from('token:'));
  const data = Buffer.concat([c.update(plain), c.final()]);
  return `ENC[AES256_GCM,data:${data.toString('base64')},iv:${iv.toString('base64')},tag:${c.getAuthTag().toString('base64')},type:str]`;
}

/** A document tree with every scalar kind, comments, a list and odd floats. */
function buildTree(): MapNode[] {
  return [
    {
      type: 'map',
      items: [
        { type: 'comment', value: ' top comment' },
        { type: 'entry', key: 'token', value: { type: 'str', value: encrypt(CANARY) } },
        { type: 'entry', key: 'n', value: { type: 'int', value: '9223372036854775807' } },
        { type: 'entry', key: 'nan', value: { type: 'float', value: NaN } },
        { type: 'entry', key: 'inf', value: { type: 'float', value: -Infinity } },
        { type: 'entry', key: 'negzero', value: { type: 'float', value: -0 } },
        { type: 'entry', key: 'pi', value: { type: 'float', value: 3.141592653589793 } },
        { type: 'entry', key: 'yes', value: { type: 'bool', value: true } },
        { type: 'entry', key: 'when', value: { type: 'time', value: '2024-01-02T03:04:05Z' } },
        { type: 'entry', key: 'nothing', value: { type: 'null' } },
        {
          type: 'entry',
          key: 'list',
          value: { type: 'list', items: [{ type: 'str', value: 'a' }, { type: 'comment', value: ' c', inline: true }, { type: 'map', items: [] }] },
        },
      ],
    },
    { type: 'map', items: [{ type: 'entry', key: 'second', value: { type: 'str', value: 'doc' } }] },
  ];
}

const TREE = buildTree();
const META: MapNode = { type: 'map', items: [{ type: 'entry', key: 'mac', value: { type: 'str', value: encrypt('mac') } }] };
const sampleTree = (): ParsedDocument => structuredClone({ branches: TREE, metadata: META });

let n = 0;
let dir: string;
let file: string;
const problems: string[] = [];

beforeEach(() => {
  n++;
  dir = join(root, `case${n}`, 'cache', 'with-secrets', 'parsed');
  file = join(root, `case${n}`, 'secrets.yaml');
  mkdirSync(join(root, `case${n}`));
  writeFileSync(file, 'token: ENC[...]\n');
  problems.length = 0;
});

function counting(tree: ParsedDocument = sampleTree()): { parse: () => ParsedDocument; calls: () => number } {
  let calls = 0;
  return {
    parse: () => {
      calls++;
      return tree;
    },
    calls: () => calls,
  };
}

const cache = () => createParseCache({ dir, onProblem: (p) => problems.push(p) });
const entries = () => readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('parse cache', () => {
  it('parses once, then serves an identical tree from a 0600 entry in a 0700 directory', async () => {
    const p = counting();
    const first = await cache().load(file, readFileSync(file), 'yaml', p.parse);
    const second = await cache().load(file, readFileSync(file), 'yaml', p.parse);
    expect(p.calls()).toBe(1);
    expect(second).toEqual(first);
    expect(Object.is((second.branches[0]!.items[5] as { value: { value: number } }).value.value, -0)).toBe(true);
    expect(entries()).toHaveLength(1);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, entries()[0]!)).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('tightens an existing directory to 0700', async () => {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    await cache().load(file, readFileSync(file), 'yaml', counting().parse);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('ignores a stale entry: new content of the same size, or only a new mtime', async () => {
    const p = counting();
    await cache().load(file, readFileSync(file), 'yaml', p.parse);
    writeFileSync(file, 'token: ENC[,,,]\n');
    await cache().load(file, readFileSync(file), 'yaml', p.parse);
    expect(p.calls()).toBe(2);
    const t = new Date(Date.now() + 5000);
    utimesSync(file, t, t);
    await cache().load(file, readFileSync(file), 'yaml', p.parse);
    expect(p.calls()).toBe(3);
    await cache().load(file, readFileSync(file), 'yaml', p.parse);
    expect(p.calls()).toBe(3);
  });

  it('caches only the formats asked for (YAML by default)', async () => {
    const p = counting();
    await cache().load(file, readFileSync(file), 'json', p.parse);
    await cache().load(file, readFileSync(file), 'json', p.parse);
    expect(p.calls()).toBe(2);
    expect(() => readdirSync(dir)).toThrow();
  });

  it('keys on the format and accepts the content as text', async () => {
    const cache = () => createParseCache({ dir, formats: ['yaml', 'json'] });
    const p = counting();
    await cache().load(file, readFileSync(file, 'utf8'), 'yaml', p.parse);
    await cache().load(file, readFileSync(file), 'yaml', p.parse);
    expect(p.calls()).toBe(1);
    await cache().load(file, readFileSync(file), 'json', p.parse);
    expect(p.calls()).toBe(2);
  });

  it('caches nothing when the bytes given are not what the file holds now', async () => {
    const p = counting();
    await cache().load(file, Buffer.from('something else entirely'), 'yaml', p.parse);
    expect(p.calls()).toBe(1);
    expect(() => readdirSync(dir)).toThrow();
  });

  it.each([
    ['truncated JSON', (t: string) => t.slice(0, t.length / 2)],
    ['empty', () => ''],
    ['wrong node type', (t: string) => t.replace('"type":"int"', '"type":"bogus"')],
    ['entry in a list', (t: string) => t.replace('"items":[{"type":"str","value":"a"}', '"items":[{"type":"entry","key":"k","value":{"type":"null"}}')],
    ['float not text', (t: string) => t.replace('"value":"3.141592653589793"', '"value":{}')],
    ['older version', (t: string) => t.replace(/"v":\d+/, '"v":0')],
  ])('ignores and rewrites a damaged entry (%s)', async (_name, damage) => {
    const p = counting();
    await cache().load(file, readFileSync(file), 'yaml', p.parse);
    const entry = join(dir, entries()[0]!);
    const good = readFileSync(entry, 'utf8');
    writeFileSync(entry, damage(good));
    const again = await cache().load(file, readFileSync(file), 'yaml', p.parse);
    expect(p.calls()).toBe(2);
    expect(again).toEqual(sampleTree()); // from parse, not from the damaged entry
    expect(readFileSync(entry, 'utf8')).toBe(good);
  });

  it('ignores an entry others could read or write', async () => {
    const p = counting();
    await cache().load(file, readFileSync(file), 'yaml', p.parse);
    chmodSync(join(dir, entries()[0]!), 0o644);
    await cache().load(file, readFileSync(file), 'yaml', p.parse);
    expect(p.calls()).toBe(2);
    expect(problems.join('\n')).toMatch(/not private/);
    expect(statSync(join(dir, entries()[0]!)).mode & 0o777).toBe(0o600);
  });

  it('never fails a load when the cache cannot be written', async () => {
    // The cache directory's parent is a regular file: mkdir fails.
    writeFileSync(join(root, `case${n}`, 'cache'), 'not a directory');
    const p = counting();
    const got = await cache().load(file, readFileSync(file), 'yaml', p.parse);
    expect(got).toEqual(sampleTree());
    expect(problems.join('\n')).toMatch(/cannot be created/);

    // A read-only directory: the entry cannot be created.
    const roDir = join(root, `case${n}`, 'ro');
    mkdirSync(roDir, { mode: 0o700 });
    chmodSync(roDir, 0o500);
    const ro = createParseCache({ dir: roDir, onProblem: (x) => problems.push(x) });
    expect(await ro.load(file, readFileSync(file), 'yaml', p.parse)).toEqual(sampleTree());
    chmodSync(roDir, 0o700);
  });

  it('holds the ciphertext and never the plaintext (canary)', async () => {
    await cache().load(file, readFileSync(file), 'yaml', counting().parse);
    const text = readFileSync(join(dir, entries()[0]!), 'utf8');
    expect(text).toContain('ENC[AES256_GCM,data:');
    expect(text).not.toContain(CANARY);
  });

  it('refuses to store a decrypted tree (bytes leaves only come from decryption)', async () => {
    const decrypted: ParsedDocument = {
      branches: [{ type: 'map', items: [{ type: 'entry', key: 'k', value: { type: 'bytes', value: Buffer.from(CANARY) } }] }],
      metadata: undefined,
    };
    const got = await cache().load(file, readFileSync(file), 'yaml', () => decrypted);
    expect(got).toBe(decrypted);
    expect(readdirSync(dir).join('')).not.toMatch(/\.json$/);
  });
});

describe('parseCacheDir', () => {
  it('uses an absolute XDG_CACHE_HOME, else ~/.cache (which needs the home directory to exist)', () => {
    expect(parseCacheDir({ XDG_CACHE_HOME: '/x/cache' }, '/home/u')).toEqual({ dir: '/x/cache/with-secrets/parsed', within: undefined });
    expect(parseCacheDir({ XDG_CACHE_HOME: 'relative' }, '/home/u')).toEqual({ dir: '/home/u/.cache/with-secrets/parsed', within: '/home/u' });
    expect(parseCacheDir({}, '/home/u')).toEqual({ dir: '/home/u/.cache/with-secrets/parsed', within: '/home/u' });
  });

  it('never makes a home directory that does not exist: the parse is returned, nothing is written', async () => {
    const home = join(root, 'no-such-home');
    const problems: string[] = [];
    const c = createParseCache({ ...parseCacheDir({}, home), onProblem: (p) => problems.push(p) });
    const file = join(root, 'nohome.yaml');
    writeFileSync(file, 'a: 1\n');
    const doc: ParsedDocument = { branches: [], metadata: undefined };
    expect(await c.load(file, 'a: 1\n', 'yaml', () => doc)).toBe(doc);
    expect(existsSync(home)).toBe(false);
    expect(problems.join('\n')).toMatch(/cannot be created \(ENOENT\)/);
  });
});
