// What we write, read by others: round trip for every store and value type with comments; sops-age, the real `age -d`,
// and an independent MAC/value check written here with node:crypto only.
import { execFileSync } from 'node:child_process';
import { createDecipheriv, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decryptSops } from 'sops-age';
import { isMap, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/age/provider.js';
import { parseAgeSecretKey } from '../../src/age/secret-key.js';
import { openSopsFile } from '../../src/sops/open.js';
import { createSopsFile } from '../../src/sops/save.js';
import { setSecret } from '../../src/sops/secret-ops.js';
import { loadStore } from '../../src/sops/stores/index.js';
import type { StoreFormat } from '../../src/sops/tree.js';
import { ageKeygen } from '../helpers/sops-fixture.js';

const CANARY = 'canary-9b2f-written-by-us';

let dir: string;
let key: { secret: string; recipient: string };
let keyFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ws-interop-'));
  key = ageKeygen();
  keyFile = join(dir, 'keys.txt');
  writeFileSync(keyFile, `${key.secret}\n`, { mode: 0o600 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const provider = () => staticProvider([{ label: 'test key', identities: [parseAgeSecretKey(key.secret)!] }]);

/** Plaintext sources per store: every value type the store has, comments where it has them. */
const SOURCES: Record<StoreFormat, { name: string; text: string; expected: Record<string, unknown> }> = {
  yaml: {
    name: 'all.yaml',
    text: [
      '# leading comment',
      'str: hello',
      'int: 42',
      'neg: -7',
      'float: 1.5',
      'yes: true',
      'no_: false',
      'when: 2024-05-06T07:08:09Z',
      'empty: ""',
      'nested:',
      '    # inner comment',
      '    deep:',
      '        x: "quoted: text"',
      'list:',
      '    - one',
      '    - 2',
      '    - k: v',
      'multi: |',
      '    line1',
      '    line2',
      'note_unencrypted: plain text',
      '',
    ].join('\n'),
    expected: {
      str: 'hello', int: 42, neg: -7, float: 1.5, yes: true, no_: false, empty: '',
      nested: { deep: { x: 'quoted: text' } }, list: ['one', 2, { k: 'v' }], multi: 'line1\nline2\n', note_unencrypted: 'plain text',
    },
  },
  json: {
    name: 'all.json',
    text: JSON.stringify({ str: 'hello', int: 42, float: 1.5, yes: true, nested: { deep: { x: 'y' } }, list: ['one', 2], note_unencrypted: 'plain' }, null, 2),
    expected: { str: 'hello', int: 42, float: 1.5, yes: true, nested: { deep: { x: 'y' } }, list: ['one', 2], note_unencrypted: 'plain' },
  },
  dotenv: {
    name: 'all.env',
    text: '# a comment\nSTR=hello\nMULTI=line1\\nline2\nEMPTY=\nNOTE_unencrypted=plain\n',
    expected: { STR: 'hello', MULTI: 'line1\nline2', EMPTY: '', NOTE_unencrypted: 'plain' },
  },
  ini: {
    name: 'all.ini',
    text: '; top comment\ntop = level\n\n[section]\n; section comment\nkey = value\nother = two words\n',
    expected: {},
  },
  binary: { name: 'all.bin', text: 'raw binary-ish\ncontent\n', expected: { data: 'raw binary-ish\ncontent\n' } },
};

const FORMATS: StoreFormat[] = ['yaml', 'json', 'dotenv', 'ini', 'binary'];

/** Writes a new file of `format` with its source, then sets the canary through the writer (a second write). */
async function writeFixture(format: StoreFormat): Promise<string> {
  const src = SOURCES[format];
  const path = join(dir, src.name);
  const { branches } = await loadStore(format, src.text, 'source', format === 'binary' ? { binary: 'plain' } : {});
  await createSopsFile(path, { format, branches, keyGroups: [[key.recipient]] });
  if (format !== 'binary') {
    const name = format === 'ini' ? ['section', 'added'] : format === 'dotenv' ? ['ADDED'] : ['added'];
    await setSecret(path, name, CANARY, { identities: provider() });
  }
  return path;
}

// ---- An independent reader: node:crypto and the real age CLI, no project code. ----------------

/** The data key, unwrapped from the first `enc` by the real age CLI. */
function dataKeyOf(enc: string): Buffer {
  return execFileSync('age', ['-d', '-i', keyFile], { input: enc });
}

/** Decrypts one ENC[…] value with node:crypto; the AAD is the key path joined with ':' plus ':'. */
function decryptEnc(value: string, dataKey: Buffer, aad: string): Buffer {
  const m = /^ENC\[AES256_GCM,data:(.*),iv:(.+),tag:(.+),type:(.+)\]$/.exec(value);
  if (!m) throw new Error('not an ENC value');
  const d = createDecipheriv('aes-256-gcm', dataKey, Buffer.from(m[2]!, 'base64'));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(Buffer.from(m[3]!, 'base64'));
  return Buffer.concat([d.update(Buffer.from(m[1]!, 'base64')), d.final()]);
}

/** Leaves in document order as (path, text) pairs; comments are not leaves. */
type Leaf = [string[], string];

function yamlLeaves(node: YamlNode | null, path: string[], out: Leaf[]): void {
  if (isMap(node)) {
    for (const item of node.items) yamlLeaves(item.value as YamlNode, [...path, String((item.key as { value: unknown }).value)], out);
  } else if (isSeq(node)) {
    for (const item of node.items) yamlLeaves(item as YamlNode, path, out);
  } else if (isScalar(node)) {
    const v = node.value;
    out.push([path, typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v)]);
  }
}

function jsonLeaves(v: unknown, path: string[], out: Leaf[]): void {
  if (Array.isArray(v)) v.forEach((x) => jsonLeaves(x, path, out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) jsonLeaves(x, [...path, k], out);
  else out.push([path, typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v)]);
}

/** Reads the file with no project code: leaves, the sops metadata we need (first enc, mac, lastmodified). */
function readIndependently(format: StoreFormat, text: string): { leaves: Leaf[]; enc: string; mac: string; lastmodified: string } {
  const leaves: Leaf[] = [];
  if (format === 'yaml') {
    const doc = parseDocument(text).toJS() as { sops: { age: { enc: string }[]; mac: string; lastmodified: string } };
    const root = parseDocument(text).contents;
    if (isMap(root)) for (const item of root.items) if (String((item.key as { value: unknown }).value) !== 'sops') yamlLeaves(item.value as YamlNode, [String((item.key as { value: unknown }).value)], leaves);
    return { leaves, enc: doc.sops.age[0]!.enc, mac: doc.sops.mac, lastmodified: doc.sops.lastmodified };
  }
  if (format === 'json' || format === 'binary') {
    const obj = JSON.parse(text) as Record<string, unknown> & { sops: { age: { enc: string }[]; mac: string; lastmodified: string } };
    for (const [k, v] of Object.entries(obj)) if (k !== 'sops') jsonLeaves(v, [k], leaves);
    return { leaves, enc: obj.sops.age[0]!.enc, mac: obj.sops.mac, lastmodified: obj.sops.lastmodified };
  }
  const meta: Record<string, string> = {};
  let section = 'DEFAULT';
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (format === 'ini' && line.startsWith('[')) {
      section = line.slice(1, line.indexOf(']'));
      continue;
    }
    const eq = line.indexOf('=');
    const k = format === 'ini' ? line.slice(0, eq).trim() : line.slice(0, eq);
    const v = (format === 'ini' ? line.slice(eq + 1).trim() : line.slice(eq + 1)).replace(/\\n/g, '\n');
    if (format === 'dotenv' && k.startsWith('sops_')) meta[k.slice(5)] = v;
    else if (format === 'ini' && section === 'sops') meta[k] = v;
    else leaves.push([format === 'ini' ? [section, k] : [k], v]);
  }
  const encKey = Object.keys(meta).find((k) => /^age__list_0__map_enc$/.test(k))!;
  return { leaves, enc: meta[encKey]!, mac: meta['mac']!, lastmodified: meta['lastmodified']! };
}

describe.each(FORMATS)('%s written by with-secrets', (format) => {
  let path: string;
  let text: string;
  beforeAll(async () => {
    path = await writeFixture(format);
    text = readFileSync(path, 'utf8');
  });

  it('our reader gets back every value, comment and type (round trip)', async () => {
    const opened = await openSopsFile(path, { identities: provider() });
    const src = SOURCES[format];
    const { branches } = await loadStore(format, src.text, 'source', format === 'binary' ? { binary: 'plain' } : {});
    const withoutAdded = opened.branches.map((b) => ({ ...b, items: b.items.filter((i) => !(i.type === 'entry' && (i.key === 'added' || i.key === 'ADDED'))) }));
    if (format === 'ini') {
      // The added key sits inside [section]; compare it apart.
      const section = opened.branches[0]!.items.find((i) => i.type === 'entry' && i.key === 'section');
      expect(JSON.stringify(section)).toContain(CANARY);
    } else {
      expect(withoutAdded).toEqual(branches);
    }
    expect(text).not.toContain(CANARY);
  });

  it('the real age CLI unwraps every enc to the data key', () => {
    const encs = [...text.matchAll(/-----BEGIN AGE ENCRYPTED FILE-----[\s\S]*?-----END AGE ENCRYPTED FILE-----/g)];
    expect(encs.length).toBeGreaterThan(0);
    const { enc } = readIndependently(format, text);
    expect(dataKeyOf(enc)).toHaveLength(32);
  });

  it('an independent check (node:crypto only) decrypts every value and recomputes the MAC', () => {
    const { leaves, enc, mac, lastmodified } = readIndependently(format, text);
    const dataKey = dataKeyOf(enc);
    const hash = createHash('sha512');
    let encrypted = 0;
    for (const [path, value] of leaves) {
      if (value.startsWith('ENC[')) {
        hash.update(decryptEnc(value, dataKey, `${path.join(':')}:`));
        encrypted++;
      } else {
        hash.update(value);
      }
    }
    expect(encrypted).toBeGreaterThan(0);
    const stored = decryptEnc(mac, dataKey, lastmodified).toString('utf8');
    expect(stored).toBe(hash.digest('hex').toUpperCase());
  });

  it.skipIf(format === 'ini')('sops-age (npm) decrypts it', async () => {
    const fileType = format === 'yaml' ? 'yaml' : format === 'dotenv' ? 'env' : 'json';
    let input = text;
    if (format === 'yaml') {
      // sops-age has no `time` type (sops ≥ 3.10): give it the same document without the timestamp.
      const p = join(dir, 'no-time.yaml');
      const { branches } = await loadStore('yaml', SOURCES.yaml.text.replace(/^when: .*\n/m, ''), 'source');
      await createSopsFile(p, { format: 'yaml', branches, keyGroups: [[key.recipient]] });
      await setSecret(p, ['added'], CANARY, { identities: provider() });
      input = readFileSync(p, 'utf8');
    }
    const out = (await decryptSops(input, { fileType, secretKey: key.secret })) as Record<string, unknown>;
    const expected: Record<string, unknown> = { ...SOURCES[format].expected };
    if (format === 'yaml' || format === 'json') expected['added'] = CANARY;
    if (format === 'dotenv') expected['ADDED'] = CANARY;
    expect(out).toEqual(expected);
  });
});
