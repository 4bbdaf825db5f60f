// Tests of data-key unwrap/wrap: armors made by the real `age` CLI, several recipients, Shamir groups, PQ, lazy sources.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAgeSecretKey } from '../../src/age/secret-key.js';
import { staticProvider, type IdentityProvider, type LoadedSource } from '../../src/age/provider.js';
import { WithSecretsError } from '../../src/errors.js';
import { openAgeArmor, unwrapDataKey, wrapDataKey } from '../../src/sops/data-key.js';
import type { KeyGroup } from '../../src/sops/metadata.js';
import { splitSecret } from '../../src/sops/shamir.js';
import { HAVE_VECTORS, VECTORS_DIR } from '../helpers/sops-vectors.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-datakey-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh X25519 key pair from the real age-keygen. */
function keygen(): { secret: string; recipient: string } {
  const out = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const secret = /^AGE-SECRET-KEY-1\S+$/m.exec(out)![0];
  const recipient = /public key: (age1\S+)/.exec(out)![1]!;
  return { secret, recipient };
}

/** Armors `data` for `recipients` with the real age CLI, as sops stores it. */
function ageEncrypt(data: Uint8Array, recipients: string[]): string {
  return execFileSync('age', ['-a', ...recipients.flatMap((r) => ['-r', r])], { input: data, encoding: 'utf8' });
}

const source = (label: string, secrets: string[]): LoadedSource => ({ label, identities: secrets.map((s) => parseAgeSecretKey(s)!) });

async function failure(p: Promise<unknown>): Promise<WithSecretsError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WithSecretsError);
    return e as WithSecretsError;
  }
  throw new Error('expected a failure');
}

const k1 = keygen();
const k2 = keygen();
const k3 = keygen();
const other = keygen();

describe('unwrapDataKey', () => {
  it('opens a one-group file with several recipients with any of their keys', async () => {
    const key = new Uint8Array(randomBytes(32));
    const groups: KeyGroup[] = [{ age: [k1, k2].map((k) => ({ recipient: k.recipient, enc: ageEncrypt(key, [k.recipient]) })), others: [] }];
    for (const k of [k1, k2]) {
      const got = await unwrapDataKey({ file: 'f.yaml', metadata: { keyGroups: groups, shamirThreshold: 0 }, identities: staticProvider([source('test', [other.secret, k.secret])]) });
      expect(Buffer.from(got).equals(Buffer.from(key))).toBe(true);
    }
  });

  it('tries every stanza of one armor against every identity', async () => {
    const key = new Uint8Array(randomBytes(32));
    const groups: KeyGroup[] = [{ age: [{ recipient: k1.recipient, enc: ageEncrypt(key, [k3.recipient, k1.recipient]) }], others: [] }];
    const got = await unwrapDataKey({ file: 'f', metadata: { keyGroups: groups, shamirThreshold: 0 }, identities: staticProvider([source('a', [other.secret]), source('b', [k1.secret])]) });
    expect(Buffer.from(got).equals(Buffer.from(key))).toBe(true);
  });

  it('with a wrong key says which recipients and which sources, never key material', async () => {
    const key = new Uint8Array(randomBytes(32));
    const groups: KeyGroup[] = [{ age: [{ recipient: k1.recipient, enc: ageEncrypt(key, [k1.recipient]) }], others: [] }];
    const e = await failure(unwrapDataKey({ file: 'secrets.yaml', metadata: { keyGroups: groups, shamirThreshold: 0 }, identities: staticProvider([source('SOPS_AGE_KEY_FILE (/x/keys.txt)', [other.secret])]) }));
    expect(e.code).toBe('no-identity');
    expect(e.message).toContain('secrets.yaml');
    expect(e.message).toContain(k1.recipient);
    expect(e.message).toContain('SOPS_AGE_KEY_FILE (/x/keys.txt)');
    expect(e.message).not.toContain(other.secret);
    expect(e.message).not.toContain('AGE-SECRET-KEY');
  });

  it('reports a malformed armor for that recipient', async () => {
    const groups: KeyGroup[] = [{ age: [{ recipient: k1.recipient, enc: '-----BEGIN AGE ENCRYPTED FILE-----\n!!\n-----END AGE ENCRYPTED FILE-----\n' }], others: [] }];
    const e = await failure(unwrapDataKey({ file: 'f', metadata: { keyGroups: groups, shamirThreshold: 0 }, identities: staticProvider([source('s', [k1.secret])]) }));
    expect(e.code).toBe('no-identity');
    expect(e.message).toMatch(/malformed age data/);
  });

  it('combines Shamir shares across groups (2 of 3), and fails with one group', async () => {
    const key = new Uint8Array(randomBytes(32));
    const shares = splitSecret(key, 3, 2);
    const groups: KeyGroup[] = [k1, k2, k3].map((k, i) => ({ age: [{ recipient: k.recipient, enc: ageEncrypt(shares[i]!, [k.recipient]) }], others: [] }));
    const meta = { keyGroups: groups, shamirThreshold: 2 };
    for (const pair of [[k1, k2], [k1, k3], [k2, k3]]) {
      const got = await unwrapDataKey({ file: 'f', metadata: meta, identities: staticProvider([source('s', pair.map((k) => k.secret))]) });
      expect(Buffer.from(got).equals(Buffer.from(key))).toBe(true);
    }
    const e = await failure(unwrapDataKey({ file: 'f', metadata: meta, identities: staticProvider([source('s', [k2.secret])]) }));
    expect(e.code).toBe('no-identity');
    expect(e.message).toMatch(/1 of the 2 key groups/);
    expect(e.message).toMatch(/group 3/);
  });

  it('loads sources lazily, in order, and stops at the first that opens', async () => {
    const key = new Uint8Array(randomBytes(32));
    const groups: KeyGroup[] = [{ age: [{ recipient: k1.recipient, enc: ageEncrypt(key, [k1.recipient]) }], others: [] }];
    const loaded: string[] = [];
    const provider: IdentityProvider = {
      async *sources() {
        for (const [label, secret] of [['first', other.secret], ['second', k1.secret], ['third', k2.secret]] as const) {
          loaded.push(label);
          yield source(label, [secret]);
        }
      },
      report: () => loaded,
    };
    await unwrapDataKey({ file: 'f', metadata: { keyGroups: groups, shamirThreshold: 0 }, identities: provider });
    expect(loaded).toEqual(['first', 'second']);
  });

  it('opens a post-quantum (ML-KEM-768+X25519) wrap with an AGE-SECRET-KEY-PQ-1 identity', async () => {
    // The Debian age here is 1.1.1, without -pq: the hybrid key and wrap come from age-encryption.
    const pq = await generateHybridIdentity();
    const recipient = await identityToRecipient(pq);
    const key = new Uint8Array(randomBytes(32));
    const [group] = await wrapDataKey(key, [[recipient]]);
    expect(group![0]!.recipient).toBe(recipient);
    const got = await unwrapDataKey({ file: 'f', metadata: { keyGroups: [{ age: group!, others: [] }], shamirThreshold: 0 }, identities: staticProvider([source('pq', [k1.secret, pq])]) });
    expect(Buffer.from(got).equals(Buffer.from(key))).toBe(true);
  });
});

describe('wrapDataKey', () => {
  it('writes armors the real age CLI opens, one per recipient; groups get 33-byte shares', async () => {
    const key = new Uint8Array(randomBytes(32));
    const [one] = await wrapDataKey(key, [[k1.recipient, k2.recipient]]);
    expect(one!.map((k) => k.recipient)).toEqual([k1.recipient, k2.recipient]);
    const idFile = join(dir, 'k2.txt');
    writeFileSync(idFile, k2.secret + '\n', { mode: 0o600 });
    const plain = execFileSync('age', ['-d', '-i', idFile], { input: one![1]!.enc });
    expect(plain.equals(Buffer.from(key))).toBe(true);

    const groups = await wrapDataKey(key, [[k1.recipient], [k2.recipient], [k3.recipient]], 2);
    const share = execFileSync('age', ['-d', '-i', idFile], { input: groups[1]![0]!.enc });
    expect(share.length).toBe(33);
    const back = await unwrapDataKey({
      file: 'f',
      metadata: { keyGroups: groups.map((age) => ({ age, others: [] })), shamirThreshold: 2 },
      identities: staticProvider([source('s', [k3.secret, k2.secret])]),
    });
    expect(Buffer.from(back).equals(Buffer.from(key))).toBe(true);
  });
});

describe.skipIf(!HAVE_VECTORS)('age-level vectors (getsops/sops age/keysource_test.go)', () => {
  const at = (f: string) => readFileSync(join(VECTORS_DIR, 'getsops+sops/age-level', f), 'utf8');
  const firstKey = (text: string) => text.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!.trim();

  it('the X25519 data file opens with its identity (both unwrap paths)', async () => {
    const identity = parseAgeSecretKey(firstKey(at('x25519-identity.txt')))!;
    const out = await openAgeArmor(at('x25519-data.age.txt'), [identity]);
    expect(typeof out).not.toBe('string');
    expect(Buffer.from(out as Uint8Array).toString()).toBe('data');
    // A source mixing kinds goes through age-encryption: same result.
    const pq = parseAgeSecretKey(firstKey(at('pq-hybrid-identity.txt')))!;
    const slow = await openAgeArmor(at('x25519-data.age.txt'), [pq, identity]);
    expect(Buffer.from(slow as Uint8Array).toString()).toBe('data');
  });

  it('the wrong key does not open it', async () => {
    const other = parseAgeSecretKey(firstKey(at('x25519-other-identity.txt')))!;
    expect(await openAgeArmor(at('x25519-data.age.txt'), [other])).toBe('no identity matched');
    const pq = parseAgeSecretKey(firstKey(at('pq-hybrid-identity.txt')))!;
    expect(await openAgeArmor(at('x25519-data.age.txt'), [pq, other])).toBe('no identity matched');
  });
});
