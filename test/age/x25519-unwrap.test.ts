// The node:crypto age X25519 decrypter against the C2SP age vectors (CCTV), age-encryption and the real `age` CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { armor, Decrypter, Encrypter, generateHybridIdentity, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeBech32, encodeBech32 } from '../../src/age/bech32.js';
import { parseAgeSecretKey } from '../../src/age/secret-key.js';
import { X25519Identity } from '../../src/age/x25519-identity.js';
import { AgeFileError, dearmor, decryptX25519, unwrapArmoredX25519 } from '../../src/age/x25519-unwrap.js';

// Where the vectors are: $CCTV_AGE_TESTDATA (a copy of CCTV's age/testdata), else the read-only
// mirror of github.com/C2SP/CCTV that the project's tooling fetches. They are never committed here.
const MIRROR = '/work/.mirror/C2SP+CCTV/repo';
const scratch = mkdtempSync(join(tmpdir(), 'ws-cctv-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function locateVectors(): string | undefined {
  const fromEnv = process.env.CCTV_AGE_TESTDATA;
  if (fromEnv !== undefined && existsSync(fromEnv)) return fromEnv;
  if (!existsSync(MIRROR)) return undefined;
  const tar = spawnSync('git', ['--git-dir', MIRROR, 'archive', 'HEAD', 'age/testdata'], { maxBuffer: 64 << 20 });
  if (tar.status !== 0) return undefined;
  execFileSync('tar', ['-x', '-C', scratch], { input: tar.stdout });
  return join(scratch, 'age/testdata');
}

const vectorDir = locateVectors();
if (vectorDir === undefined) {
  console.warn('SKIPPED: C2SP age test vectors not found (set CCTV_AGE_TESTDATA to a copy of CCTV age/testdata)');
}

interface Vector {
  name: string;
  expect: string;
  identities: string[];
  passphrases: string[];
  armored: boolean;
  payloadHash?: string;
  body: Buffer;
}

function readVector(dir: string, name: string): Vector {
  const raw = readFileSync(join(dir, name));
  const split = raw.indexOf('\n\n');
  const headerLines = raw.toString('utf8', 0, split).split('\n');
  const v: Vector = { name, expect: '', identities: [], passphrases: [], armored: false, body: raw.subarray(split + 2) };
  let compressed = false;
  for (const line of headerLines) {
    const at = line.indexOf(': ');
    const key = line.slice(0, at);
    const value = line.slice(at + 2);
    if (key === 'expect') v.expect = value;
    else if (key === 'identity') v.identities.push(value);
    else if (key === 'passphrase') v.passphrases.push(value);
    else if (key === 'armored') v.armored = value === 'yes';
    else if (key === 'payload') v.payloadHash = value;
    else if (key === 'compressed') compressed = value === 'zlib';
  }
  if (compressed) v.body = inflateSync(v.body);
  return v;
}

/** Runs one vector through this module and names the outcome in CCTV's words. */
function outcomeOf(v: Vector): { expect: string; payload?: Buffer } {
  const ids = v.identities.map((s) => X25519Identity.parse(s)!);
  try {
    const file = v.armored ? dearmor(v.body.toString('latin1')) : v.body;
    const payload = decryptX25519(file, ids);
    return payload === null ? { expect: 'no match' } : { expect: 'success', payload };
  } catch (err) {
    if (!(err instanceof AgeFileError)) throw err;
    return { expect: { armor: 'armor failure', header: 'header failure', hmac: 'HMAC failure', payload: 'payload failure' }[err.failure] };
  }
}

describe.skipIf(vectorDir === undefined)('C2SP age vectors (CCTV), X25519 cases', () => {
  const all = vectorDir === undefined ? [] : readdirSync(vectorDir).map((n) => readVector(vectorDir, n));
  // The X25519 cases: no passphrase, no post-quantum identity (those stay with age-encryption).
  const cases = all.filter((v) => v.passphrases.length === 0 && v.identities.every((s) => s.startsWith('AGE-SECRET-KEY-1')));

  it('covers the X25519, armor, header, HMAC and STREAM vectors', () => {
    expect(cases.length).toBeGreaterThanOrEqual(90);
    expect(cases.filter((v) => v.expect === 'success').length).toBeGreaterThan(12);
  });

  it.each(cases.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const got = outcomeOf(v);
    expect(got.expect).toBe(v.expect);
    if (v.expect === 'success') {
      expect(createHash('sha256').update(got.payload!).digest('hex')).toBe(v.payloadHash);
    }
  });
});

describe('X25519Identity', () => {
  it('derives the same recipient as age-encryption', async () => {
    for (let i = 0; i < 5; i++) {
      const secret = await generateX25519Identity();
      expect(X25519Identity.parse(secret)!.recipientSync()).toBe(await identityToRecipient(secret));
    }
  });

  it('refuses malformed keys without quoting them', () => {
    const secret = 'AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX';
    expect(X25519Identity.parse(secret.toLowerCase())).toBeNull();
    expect(X25519Identity.parse(secret.slice(0, -1) + 'Q')).toBeNull();
    expect(X25519Identity.parse('AGE-SECRET-KEY-PQ-1QQQQ')).toBeNull();
    expect(X25519Identity.parse('')).toBeNull();
  });

  it('never shows its key in JSON or inspect output', async () => {
    const secret = await generateX25519Identity();
    const id = X25519Identity.parse(secret)!;
    const { inspect } = await import('node:util');
    const body = secret.slice('AGE-SECRET-KEY-1'.length);
    expect(JSON.stringify(id)).not.toContain(body);
    expect(inspect(id, { showHidden: true, depth: 5 })).not.toContain(body);
  });

  it('works as an age-encryption Identity', async () => {
    const secret = await generateX25519Identity();
    const e = new Encrypter();
    e.addRecipient(await identityToRecipient(secret));
    const sealed = await e.encrypt('hello');
    const d = new Decrypter();
    d.addIdentity(X25519Identity.parse(secret)!);
    expect(await d.decrypt(sealed, 'text')).toBe('hello');
  });
});

describe('parseAgeSecretKey', () => {
  it('gives node:crypto identities for X25519 keys and deferred age-encryption ones for hybrid keys', async () => {
    const x = await generateX25519Identity();
    expect(parseAgeSecretKey(x)).toBeInstanceOf(X25519Identity);
    const pq = await generateHybridIdentity();
    const hybrid = parseAgeSecretKey(pq)!;
    expect(hybrid.kind).toBe('mlkem768x25519');
    expect(await hybrid.recipient()).toBe(await identityToRecipient(pq));
    const e = new Encrypter();
    e.addRecipient(await identityToRecipient(pq));
    const d = new Decrypter();
    d.addIdentity(hybrid);
    expect(await d.decrypt(await e.encrypt('pq'), 'text')).toBe('pq');
    expect(parseAgeSecretKey(pq.slice(0, -2) + 'QQ')).toBeNull();
    expect(JSON.stringify(hybrid)).not.toContain(pq.slice(20));
  });
});

describe('bech32', () => {
  it('round-trips and rejects a flipped character', () => {
    const bytes = randomBytes(32);
    const s = encodeBech32('age', bytes);
    expect(Buffer.from(decodeBech32(s)!.bytes)).toEqual(bytes);
    const flipped = s.slice(0, 10) + (s[10] === 'q' ? 'p' : 'q') + s.slice(11);
    expect(decodeBech32(flipped)).toBeNull();
    expect(decodeBech32(s.slice(0, 5).toUpperCase() + s.slice(5))).toBeNull();
  });
});

describe('agreement with age-encryption and the age CLI on generated files', () => {
  const hasAge = spawnSync('age', ['--version']).status === 0;
  if (!hasAge) console.warn('SKIPPED part: the `age` CLI is not installed');

  it('decrypts what age-encryption writes (armored, several recipients, sizes across chunk borders)', async () => {
    const mine = await generateX25519Identity();
    const other = await generateX25519Identity();
    for (const size of [0, 1, 32, 65535, 65536, 65537, 200_000]) {
      const data = randomBytes(size);
      const e = new Encrypter();
      e.addRecipient(await identityToRecipient(other));
      e.addRecipient(await identityToRecipient(mine));
      const enc = armor.encode(await e.encrypt(data));
      expect(unwrapArmoredX25519(enc, [X25519Identity.parse(mine)!])).toEqual(data);
      expect(unwrapArmoredX25519(enc, [X25519Identity.parse(await generateX25519Identity())!])).toBeNull();
    }
  });

  it('defers to age-encryption when an identity is not X25519', async () => {
    expect(unwrapArmoredX25519('', [{ unwrapFileKey: () => null }])).toBeUndefined();
    const hybrid = await generateHybridIdentity();
    expect(X25519Identity.parse(hybrid)).toBeNull();
  });

  it.skipIf(!hasAge)('decrypts what `age -a` writes and writes nothing `age -d` disagrees with', async () => {
    const dir = mkdtempSync(join(scratch, 'cli-'));
    execFileSync('age-keygen', ['-o', join(dir, 'key.txt')], { stdio: 'ignore' });
    const keyFile = readFileSync(join(dir, 'key.txt'), 'utf8');
    const secret = keyFile.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;
    const recipient = keyFile.match(/public key: (age1\S+)/)![1]!;
    expect(X25519Identity.parse(secret)!.recipientSync()).toBe(recipient);
    const dataKey = randomBytes(32);
    writeFileSync(join(dir, 'plain'), dataKey);
    const enc = execFileSync('age', ['-a', '-r', recipient, join(dir, 'plain')], { encoding: 'utf8' });
    expect(unwrapArmoredX25519(enc, [X25519Identity.parse(secret)!])).toEqual(dataKey);

    // The other direction: a tampered file is refused by both.
    const bin = execFileSync('age', ['-r', recipient, join(dir, 'plain')]);
    bin[bin.length - 1]! ^= 1;
    writeFileSync(join(dir, 'bad.age'), bin);
    expect(spawnSync('age', ['-d', '-i', join(dir, 'key.txt'), join(dir, 'bad.age')]).status).not.toBe(0);
    expect(() => decryptX25519(bin, [X25519Identity.parse(secret)!])).toThrow(AgeFileError);
  });
});
