// Fuzz: every SOPS store and openSopsFile over arbitrary text and over mutations of real documents (the shared vectors and our own fixtures).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from 'age-encryption';
import { staticProvider } from '../../src/age/provider.js';
import { parseAgeSecretKey } from '../../src/age/secret-key.js';
import { openSopsFile } from '../../src/sops/open.js';
import { loadStore } from '../../src/sops/stores/index.js';
import type { Comment, Node, StoreFormat } from '../../src/sops/tree.js';
import { ageKeygen, makeSopsFile } from '../helpers/sops-fixture.js';
import { HAVE_VECTORS, readVectors, VECTORS_DIR, vectorSecretKey } from '../helpers/sops-vectors.js';
import { budget, CANARY, fuzz, runs } from './fuzz-harness.js';
import { mutate, mutationsArb, tokenText } from './mutate.js';

const FORMATS: readonly StoreFormat[] = ['yaml', 'json', 'dotenv', 'ini', 'binary'];
const OPEN_CODES = ['malformed', 'decrypt-failed', 'mac-mismatch', 'no-identity', 'identity-invalid'];

/** A document to mutate: its text, format, the key that opens it, and the strings no message may hold. */
interface Doc {
  readonly name: string;
  readonly format: StoreFormat;
  readonly text: Buffer;
  readonly secretKey: string;
  readonly secrets: readonly string[];
  /** Canary-bearing values that may come back only whole (authenticated encryption). */
  readonly canaries: readonly string[];
}

const docs: Doc[] = [];
const dir = mkdtempSync(join(tmpdir(), 'ws-fuzz-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const key = ageKeygen();
const C1 = `${CANARY}-one`;
const C2 = `${CANARY}-two`;

/** Every string leaf (and comment) of decrypted branches. */
function leaves(n: Node | Comment, out: string[] = []): string[] {
  if (n.type === 'map') for (const e of n.items) e.type === 'entry' ? leaves(e.value, out) : out.push(e.value);
  else if (n.type === 'list') for (const i of n.items) leaves(i, out);
  else if (n.type === 'str' || n.type === 'comment') out.push(n.value);
  else if (n.type === 'bytes') out.push(Buffer.from(n.value).toString('utf8'));
  return out;
}

function secretValuesOf(expected: unknown, text: string, name: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string' && v.length >= 10 && !text.includes(v) && !name.includes(v)) out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(expected);
  return out;
}

beforeAll(async () => {
  const own: Array<[string, string, boolean?]> = [
    ['own.yaml', `# top comment\nopenai:\n    api_key: ${C1}\n    n: 7\nlist:\n    - ${C2}\n    - 1.5\nflag: true\nnote_unencrypted: plain\n---\nsecond: ${C2}\n`],
    ['own.json', JSON.stringify({ token: C1, nested: { n: 7, list: ['a', C2] }, flag: true, note_unencrypted: 'x' })],
    ['own.env', `TOKEN=${C1}\nOTHER=${C2}\n# comment\nEMPTY=\n`],
    ['own.ini', `[DEFAULT]\ntoken = ${C1}\n[section]\nother = ${C2}\n`],
    ['own.bin', `${C1}\n${C2}\n`],
    ['own-maconly.yaml', `a: ${C1}\nb_unencrypted: free\nc: ${C2}\n`, true],
  ];
  for (const [name, plain, macOnly] of own) {
    const f = await makeSopsFile({ dir, name, plain, recipients: [key.recipient], ...(macOnly ? { macOnlyEncrypted: true } : {}) });
    const dk = Buffer.from(f.dataKey);
    docs.push({ name, format: f.format, text: Buffer.from(f.text), secretKey: key.secret, secrets: [C1, C2, key.secret, dk.toString('base64'), dk.toString('hex')], canaries: [C1, C2, `${C1}\n${C2}\n`] });
  }
  if (HAVE_VECTORS) {
    for (const v of readVectors()) {
      const text = readFileSync(join(VECTORS_DIR, v.file));
      const format = (v.format.startsWith('binary') ? 'binary' : v.format) as StoreFormat;
      const secretKey = vectorSecretKey(v.keys[0]!);
      const expected = v.expected === undefined ? {} : JSON.parse(readFileSync(join(VECTORS_DIR, v.expected), 'utf8'));
      docs.push({ name: v.file, format, text, secretKey, secrets: [secretKey, ...secretValuesOf(expected, text.toString('utf8'), v.file)], canaries: [] });
    }
  } else {
    console.warn(`fuzz: ${VECTORS_DIR} is absent; mutating our own fixtures only`);
  }
});

const identityCache = new Map<string, Identity[]>();
function provider(secretKey: string) {
  let ids = identityCache.get(secretKey);
  if (ids === undefined) identityCache.set(secretKey, (ids = [parseAgeSecretKey(secretKey)!]));
  return staticProvider([{ label: 'fuzz key', identities: ids }]);
}

describe('SOPS stores (fuzz)', () => {
  const n1 = runs(1_500, 300_000);
  it('loadStore on arbitrary text, every format: a tree or a typed malformed error', { timeout: budget(n1) }, async () => {
    await fuzz({
      name: 'stores/arbitrary-text',
      arb: fc.tuple(fc.constantFrom(...FORMATS), fc.oneof(tokenText, fc.string({ unit: 'binary', maxLength: 300 }), fc.json())),
      numRuns: n1,
      allowed: ['malformed'],
      run: ([format, text]) => loadStore(format, text, 'fuzz.doc'),
    });
  });

  const n2 = runs(1_500, 300_000);
  it('loadStore on mutated real documents, every format (also read as the other formats)', { timeout: budget(n2, 10) }, async () => {
    await fuzz({
      name: 'stores/mutated-documents',
      arb: fc.tuple(fc.nat(), fc.option(fc.constantFrom(...FORMATS), { nil: undefined }), mutationsArb),
      numRuns: n2,
      allowed: ['malformed'],
      secrets: ([i]) => docs[i % docs.length]!.secrets.slice(0, 1),
      run: ([i, as, ms]) => {
        const d = docs[i % docs.length]!;
        return loadStore(as ?? d.format, mutate(d.text, ms).toString('utf8'), d.name);
      },
    });
  });
});

describe('openSopsFile (fuzz)', () => {
  it('every unmutated document opens (the baseline of the mutation fuzz)', async () => {
    for (const d of docs) {
      if (d.name.includes('0799c9b4')) continue; // the one negative vector
      const o = await openSopsFile(d.name, { format: d.format, identities: provider(d.secretKey), readFile: async () => d.text.toString('utf8') });
      expect(o.macVerified).toBe(true);
    }
    expect(docs.length).toBeGreaterThanOrEqual(HAVE_VECTORS ? 47 : 6);
  });

  const n3 = runs(1_200, 150_000);
  it('mutated documents: the original values or a typed error, never a value or key in a message', { timeout: budget(n3, 20) }, async () => {
    await fuzz({
      name: 'open/mutated-documents',
      arb: fc.tuple(fc.nat(), mutationsArb),
      numRuns: n3,
      allowed: OPEN_CODES,
      secrets: ([i]) => docs[i % docs.length]!.secrets,
      run: async ([i, ms]) => {
        const d = docs[i % docs.length]!;
        const text = mutate(d.text, ms).toString('utf8');
        return { d, o: await openSopsFile(d.name, { format: d.format, identities: provider(d.secretKey), readFile: async () => text }) };
      },
      check: ({ d, o }) => {
        expect(o.macVerified).toBe(true);
        // Whatever still opens carries our canary values whole: no truncated or altered secret gets through.
        for (const leaf of o.branches.flatMap((b) => leaves(b))) {
          if (leaf.includes(CANARY)) expect(d.canaries).toContain(leaf);
        }
      },
    });
  });

  const n4 = runs(300, 50_000);
  it('a wrong key: no-identity naming the recipients, never the key', { timeout: budget(n4, 20) }, async () => {
    const other = ageKeygen();
    await fuzz({
      name: 'open/wrong-key',
      arb: fc.tuple(fc.nat(), fc.option(mutationsArb, { nil: undefined })),
      numRuns: n4,
      allowed: OPEN_CODES,
      secrets: ([i]) => [...docs[i % docs.length]!.secrets, other.secret],
      run: async ([i, ms]) => {
        const d = docs[i % docs.length]!;
        const text = (ms ? mutate(d.text, ms) : d.text).toString('utf8');
        await openSopsFile(d.name, { format: d.format, identities: provider(other.secret), readFile: async () => text });
        throw new Error('opened with the wrong key');
      },
    });
  });
});
