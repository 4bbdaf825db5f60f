// Our own sops files (values by our encrypt code, data keys wrapped by the real age CLI) opened by the library:
// tampering, several recipients, Shamir groups, PQ, every partial-encryption rule, mac_only_encrypted, time, multi-document.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/age/provider.js';
import { parseAgeSecretKey } from '../../src/age/secret-key.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { WithSecretsError } from '../../src/errors.js';
import { lookupPath } from '../../src/sops/key-path.js';
import { openSopsFile, type OpenOptions } from '../../src/sops/open.js';
import type { EncryptionRules } from '../../src/sops/encryption-rules.js';
import { ageKeygen, makeSopsFile } from '../helpers/sops-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-fixtures-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CANARY = 'CANARY-ffe1-plaintext';
const alice = ageKeygen();
const bob = ageKeygen();
const carol = ageKeygen();
const mallory = ageKeygen();

const ids = (...secrets: string[]): OpenOptions['identities'] => staticProvider([{ label: 'test keys', identities: secrets.map((s) => parseAgeSecretKey(s)!) }]);

const PLAIN = `# top comment
token: ${CANARY}
port: 8080
ratio: 0.5
enabled: true
when: 2024-01-02T03:04:05Z
nested:
    # about the key
    key: inner
    list:
        - a
        - b
public_unencrypted: shown
`;

async function fails(p: Promise<unknown>): Promise<WithSecretsError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WithSecretsError);
    expect(String((e as Error).message)).not.toContain(CANARY);
    expect(String((e as Error).message)).not.toContain('AGE-SECRET-KEY');
    return e as WithSecretsError;
  }
  throw new Error('expected a failure');
}

let n = 0;
async function write(text: string, name = `t${n++}.yaml`): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

/** Changes one base64 character inside the first `ENC[...data:` after `anchor`. */
function flipData(text: string, anchor: string): string {
  const at = text.indexOf('data:', text.indexOf(anchor)) + 'data:'.length;
  const c = text[at]!;
  return text.slice(0, at) + (c === 'A' ? 'B' : 'A') + text.slice(at + 1);
}

describe('own fixtures', () => {
  it('round-trips types (int, float, bool, time), comments and lists', async () => {
    const f = await makeSopsFile({ dir, name: 'types.yaml', plain: PLAIN, recipients: [alice.recipient] });
    expect(f.text).not.toContain(CANARY);
    expect(f.text).toContain('type:time');
    expect(f.text).toContain('type:int');
    expect(f.text).toContain('type:comment');
    expect(f.text).toContain('public_unencrypted: shown');
    const o = await openSopsFile(f.path, { identities: ids(alice.secret) });
    const b = o.branches[0]!;
    expect(lookupPath(b, ['token'])).toEqual({ type: 'str', value: CANARY });
    expect(lookupPath(b, ['port'])).toEqual({ type: 'int', value: '8080' });
    expect(lookupPath(b, ['ratio'])).toEqual({ type: 'float', value: 0.5 });
    expect(lookupPath(b, ['enabled'])).toEqual({ type: 'bool', value: true });
    expect(lookupPath(b, ['when'])).toEqual({ type: 'time', value: '2024-01-02T03:04:05Z' });
    expect(lookupPath(b, ['nested', 'list', 1])).toEqual({ type: 'str', value: 'b' });
    expect(b.items[0]).toMatchObject({ type: 'comment', value: ' top comment' });
  });

  describe('tampering fails with exit code 5', () => {
    let text = '';
    it('setup', async () => {
      text = (await makeSopsFile({ dir, name: 'orig.yaml', plain: PLAIN, recipients: [alice.recipient] })).text;
    });
    const cases: [string, (t: string) => string, string, RegExp][] = [
      ['a byte of a value', (t) => flipData(t, '\ntoken:'), 'decrypt-failed', /token/],
      ['a byte of the MAC', (t) => flipData(t, '    mac:'), 'mac-mismatch', /MAC does not decrypt/],
      ['a key name', (t) => t.replace('\ntoken:', '\ntokem:'), 'decrypt-failed', /tokem/],
      ['lastmodified', (t) => t.replace(/lastmodified: "([^"]+)Z"/, 'lastmodified: "2001-01-01T00:00:00Z"'), 'mac-mismatch', /MAC does not decrypt/],
      ['a removed key', (t) => t.replace(/\nport: [^\n]+/, ''), 'mac-mismatch', /MAC differs/],
      ['an added plain key', (t) => t.replace('\npublic_unencrypted:', '\nextra_unencrypted: x\npublic_unencrypted:'), 'mac-mismatch', /MAC differs/],
      ['a changed plain value', (t) => t.replace('public_unencrypted: shown', 'public_unencrypted: shawn'), 'mac-mismatch', /MAC differs/],
      ['an emptied MAC', (t) => t.replace(/    mac: ENC\[[^\n]+/, '    mac: ""'), 'mac-mismatch', /no MAC/],
      ['two values swapped', (t) => {
        const a = /\nport: ([^\n]+)/.exec(t)![1]!;
        const b = /\nratio: ([^\n]+)/.exec(t)![1]!;
        return t.replace(a, 'XX').replace(b, a).replace('XX', b);
      }, 'decrypt-failed', /port/],
    ];
    for (const [what, change, code, message] of cases) {
      it(what, async () => {
        const changed = change(text);
        expect(changed).not.toBe(text);
        const e = await fails(openSopsFile(await write(changed), { identities: ids(alice.secret) }));
        expect(e.code).toBe(code);
        expect(exitCodeFor(e.code)).toBe(5);
        expect(e.message).toMatch(message);
      });
    }
    it('--ignore-mac opens a file whose MAC no longer matches (recovery)', async () => {
      const path = await write(text.replace(/\nport: [^\n]+/, ''));
      const o = await openSopsFile(path, { identities: ids(alice.secret), ignoreMac: true });
      expect(o.macVerified).toBe(false);
      expect(lookupPath(o.branches[0]!, ['token'])).toEqual({ type: 'str', value: CANARY });
    });
  });

  it('opens with any of several recipients; a wrong key gives no-identity (4) naming recipients and sources', async () => {
    const f = await makeSopsFile({ dir, name: 'multi.yaml', plain: PLAIN, recipients: [alice.recipient, bob.recipient, carol.recipient] });
    for (const k of [alice, bob, carol]) {
      const o = await openSopsFile(f.path, { identities: ids(mallory.secret, k.secret) });
      expect(lookupPath(o.branches[0]!, ['token'])).toEqual({ type: 'str', value: CANARY });
    }
    const e = await fails(openSopsFile(f.path, { identities: ids(mallory.secret) }));
    expect(e.code).toBe('no-identity');
    expect(exitCodeFor(e.code)).toBe(4);
    for (const k of [alice, bob, carol]) expect(e.message).toContain(k.recipient);
    expect(e.message).toContain('test keys');
  });

  it('key groups with a Shamir threshold of 2 out of 3', async () => {
    const f = await makeSopsFile({ dir, name: 'shamir.yaml', plain: PLAIN, groups: [[alice.recipient], [bob.recipient, mallory.recipient], [carol.recipient]], threshold: 2 });
    expect(f.text).toContain('key_groups:');
    expect(f.text).toMatch(/shamir_threshold: 2/);
    for (const pair of [[alice, bob], [alice, carol], [bob, carol], [mallory, carol]]) {
      const o = await openSopsFile(f.path, { identities: ids(...pair.map((k) => k.secret)) });
      expect(lookupPath(o.branches[0]!, ['token'])).toEqual({ type: 'str', value: CANARY });
    }
    const e = await fails(openSopsFile(f.path, { identities: ids(carol.secret) }));
    expect(e.code).toBe('no-identity');
    expect(e.message).toMatch(/1 of the 2 key groups/);
  });

  it('a post-quantum (AGE-SECRET-KEY-PQ-1) identity opens a file wrapped for its age1pq1 recipient', async () => {
    // age 1.1.1 (Debian) has no -pq: the key comes from age-encryption and so does this one wrap.
    const pq = await generateHybridIdentity();
    const f = await makeSopsFile({ dir, name: 'pq.yaml', plain: PLAIN, recipients: [await identityToRecipient(pq), alice.recipient] });
    expect(f.wrappedBy).toBe('mixed');
    const o = await openSopsFile(f.path, { identities: ids(pq) });
    expect(lookupPath(o.branches[0]!, ['token'])).toEqual({ type: 'str', value: CANARY });
  });

  describe('partial-encryption rules', () => {
    const plain = `# sops:enc
secretKey: s1
dataTemplates:
    inner: s2
plain: p1
# keep-plain
other: p2
`;
    const cases: [EncryptionRules, string[], string[]][] = [
      [{ unencryptedSuffix: 'Key' }, ['inner', 'p1', 'p2'], ['s1']],
      [{ encryptedSuffix: 'Templates' }, ['s2'], ['s1', 'p1', 'p2']],
      [{ encryptedRegex: '^(secretKey|inner)$' }, ['s1', 's2'], ['p1', 'p2']],
      [{ unencryptedRegex: '^(plain|other)$' }, ['s1', 's2'], ['p1', 'p2']],
      [{ encryptedCommentRegex: 'sops:enc' }, ['s1'], ['s2', 'p1', 'p2', 'sops:enc', 'keep-plain']],
      [{ unencryptedCommentRegex: 'keep-plain' }, ['s1', 's2', 'p1'], ['p2', 'keep-plain']],
    ];
    for (const [rules, encrypted, plainLeft] of cases) {
      it(Object.keys(rules)[0]!, async () => {
        const f = await makeSopsFile({ dir, name: `rules-${Object.keys(rules)[0]}.yaml`, plain, recipients: [alice.recipient], rules });
        for (const v of encrypted) expect(f.text).not.toMatch(new RegExp(`: ${v}\\n`));
        for (const v of plainLeft) expect(f.text).toContain(v);
        const o = await openSopsFile(f.path, { identities: ids(alice.secret) });
        expect(lookupPath(o.branches[0]!, ['dataTemplates', 'inner'])).toEqual({ type: 'str', value: 's2' });
        expect(lookupPath(o.branches[0]!, ['secretKey'])).toEqual({ type: 'str', value: 's1' });
        expect(lookupPath(o.branches[0]!, ['other'])).toEqual({ type: 'str', value: 'p2' });
      });
    }
  });

  it('mac_only_encrypted: plain values are outside the MAC, encrypted ones inside', async () => {
    const f = await makeSopsFile({ dir, name: 'maconly.yaml', plain: PLAIN, recipients: [alice.recipient], macOnlyEncrypted: true });
    expect(f.text).toContain('mac_only_encrypted: true');
    const plainChanged = await write(f.text.replace('public_unencrypted: shown', 'public_unencrypted: other'));
    const o = await openSopsFile(plainChanged, { identities: ids(alice.secret) });
    expect(lookupPath(o.branches[0]!, ['public_unencrypted'])).toEqual({ type: 'str', value: 'other' });
    const removed = await write(f.text.replace(/\nport: [^\n]+/, ''));
    expect((await fails(openSopsFile(removed, { identities: ids(alice.secret) }))).code).toBe('mac-mismatch');
    // Without the flag the same plain change breaks the MAC.
    const g = await makeSopsFile({ dir, name: 'macall.yaml', plain: PLAIN, recipients: [alice.recipient] });
    const changed = await write(g.text.replace('public_unencrypted: shown', 'public_unencrypted: other'));
    expect((await fails(openSopsFile(changed, { identities: ids(alice.secret) }))).code).toBe('mac-mismatch');
  });

  it('multi-document YAML: every document decrypted and covered by the MAC', async () => {
    const f = await makeSopsFile({ dir, name: 'multi-doc.yaml', plain: `a: ${CANARY}\n---\nb: second\n---\nc: 3\n`, recipients: [alice.recipient] });
    expect(f.text.match(/^sops:/gm)?.length).toBe(3);
    const o = await openSopsFile(f.path, { identities: ids(alice.secret) });
    expect(o.branches.map((b) => b.items.length)).toEqual([1, 1, 1]);
    expect(lookupPath(o.branches[1]!, ['b'])).toEqual({ type: 'str', value: 'second' });
    expect(lookupPath(o.branches[2]!, ['c'])).toEqual({ type: 'int', value: '3' });
  });

  it('a file without version is read', async () => {
    const f = await makeSopsFile({ dir, name: 'nover.yaml', plain: PLAIN, recipients: [alice.recipient] });
    const path = await write(f.text.replace(/\n    version: [^\n]+/, ''));
    const o = await openSopsFile(path, { identities: ids(alice.secret) });
    expect(o.metadata.version).toBeUndefined();
  });

  it('malformed files fail with code 6 naming the file', async () => {
    const f = await makeSopsFile({ dir, name: 'mal.yaml', plain: PLAIN, recipients: [alice.recipient] });
    const bad: [string, string][] = [
      ['no metadata', `token: ${CANARY}\n`],
      ['bad lastmodified', f.text.replace(/lastmodified: "[^"]+"/, 'lastmodified: "soon"')],
      ['not ENC', f.text.replace(/\nport: [^\n]+/, '\nport: ENC[AES256_GCM,data:??]')],
      ['two rules', f.text.replace('    unencrypted_suffix: _unencrypted', '    unencrypted_suffix: _unencrypted\n    encrypted_regex: x')],
      ['unknown type', f.text.replace('type:int]', 'type:long]')],
    ];
    for (const [what, text] of bad) {
      const e = await fails(openSopsFile(await write(text), { identities: ids(alice.secret) }));
      expect([what, e.code]).toEqual([what, 'malformed']);
      expect(exitCodeFor(e.code)).toBe(6);
      expect(e.message).toContain(dir);
    }
  });
});

describe('own fixtures in every store', () => {
  const cases: [string, string, string, string][] = [
    ['json', '"token"', 'store.json', JSON.stringify({ token: CANARY, n: 7, f: 1.5, b: false, nested: { list: ['x', { y: 'z' }] }, public_unencrypted: 'p' })],
    ['dotenv', 'TOKEN=', 'store.env', `# comment\nTOKEN=${CANARY}\nMULTI=line1\\nline2\nPUBLIC_unencrypted=p\n`],
    ['ini', '\ntoken', 'store.ini', `top = level\n[section]\n; about token\ntoken = ${CANARY}\n[other]\npublic_unencrypted = p\n`],
    ['binary', '"data"', 'store.bin', `line one ${CANARY}\nline two\n`],
  ];
  for (const [format, anchor, name, plain] of cases) {
    it(`${format}: round trip; a flipped byte of a value or of the MAC fails with 5`, async () => {
      const f = await makeSopsFile({ dir, name, plain, recipients: [alice.recipient, bob.recipient] });
      expect(f.text).not.toContain(CANARY);
      const o = await openSopsFile(f.path, { identities: ids(bob.secret) });
      expect(JSON.stringify(o.branches)).toContain(CANARY);
      // (A flipped comment would not do: sops keeps a comment that does not decrypt as it is.)
      const flipped = flipData(f.text, anchor);
      const e = await fails(openSopsFile(await write(flipped, `flip-${name}`), { identities: ids(bob.secret) }));
      expect(exitCodeFor(e.code)).toBe(5);
      // A changed metadata line (the MAC) is caught too.
      const macLine = f.text.split('\n').find((l) => /mac["\s]*[:=]/.test(l) && l.includes('ENC['))!;
      const macFlipped = f.text.replace(macLine, flipData(macLine, 'mac'));
      const m = await fails(openSopsFile(await write(macFlipped, `mac-${name}`), { identities: ids(bob.secret) }));
      expect(m.code).toBe('mac-mismatch');
    });
  }
});
