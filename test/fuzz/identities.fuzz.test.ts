// Fuzz: age armor/headers/payloads, whole age files, key files, identity content and SSH private keys, over arbitrary and mutated real input.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptAgeFile } from '../../src/age/decrypt-age-file.js';
import { parseIdentityContent } from '../../src/age/identity-content.js';
import { parseKeyFile } from '../../src/age/key-file.js';
import { staticProvider } from '../../src/age/provider.js';
import { parseRecipient } from '../../src/age/recipient.js';
import { parseAgeSecretKey } from '../../src/age/secret-key.js';
import { parseSshPrivateKey } from '../../src/age/ssh-key.js';
import { X25519Identity } from '../../src/age/x25519-identity.js';
import { AgeFileError, dearmor, decryptX25519, parseHeader } from '../../src/age/x25519-unwrap.js';
import { openAgeArmor } from '../../src/sops/data-key.js';
import { ageKeygen } from '../helpers/sops-fixture.js';
import { budget, CANARY, fuzz, runs } from './fuzz-harness.js';
import { mutate, mutationsArb, tokenText } from './mutate.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-fuzz-age-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const x = ageKeygen();
const x2 = ageKeygen();
const PLAIN = `${CANARY}-age-payload\n`;
let ageBinary: Buffer;
let ageArmored: Buffer;
let ageSsh: Buffer;
let ageMulti: Buffer;
let sshEd: string;
let sshRsa: string;
let sshEdPub: string;
let keyFileText: string;
const keyMaterial: string[] = [x.secret, x2.secret];

function age(args: string[], input: string | Buffer): Buffer {
  return execFileSync('age', args, { input });
}

beforeAll(() => {
  ageBinary = age(['-r', x.recipient], PLAIN);
  ageArmored = age(['-a', '-r', x.recipient], PLAIN);
  ageMulti = age(['-a', '-r', x2.recipient, '-r', x.recipient], PLAIN);
  for (const [type, bits] of [['ed25519', []], ['rsa', ['-b', '2048']]] as const) {
    const f = join(dir, `id_${type}`);
    execFileSync('ssh-keygen', ['-q', '-t', type, ...bits, '-N', '', '-C', 'fuzz', '-f', f]);
    const text = readFileSync(f, 'utf8');
    if (type === 'ed25519') {
      sshEd = text;
      sshEdPub = readFileSync(`${f}.pub`, 'utf8').trim();
    } else sshRsa = text;
    // The base64 body lines of the private key are key material.
    keyMaterial.push(...text.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l)));
  }
  ageSsh = age(['-a', '-R', join(dir, 'id_ed25519.pub')], PLAIN);
  keyFileText = `# created: 2026-01-01\n# public key: ${x.recipient}\n${x.secret}\n\n# second\n${x2.secret}\nAGE-PLUGIN-YUBIKEY-1QQQQQQ\n`;
});

/** Runs a low-level age call: its contract is a value, null, or an AgeFileError (the callers wrap it). */
function lowLevel<T>(f: () => T): T | 'age-file-error' {
  try {
    return f();
  } catch (e) {
    if (e instanceof AgeFileError) {
      expect(e.message).not.toContain(CANARY);
      return 'age-file-error';
    }
    throw e;
  }
}

describe('age format (fuzz)', () => {
  const files = () => [ageBinary, ageArmored, ageMulti, ageSsh];

  const n1 = runs(1_500, 300_000);
  it('dearmor / parseHeader / decryptX25519 on mutated real age files: a payload, null or an AgeFileError', { timeout: budget(n1) }, async () => {
    const ids = [parseAgeSecretKey(x.secret)!].filter((i): i is X25519Identity => i instanceof X25519Identity);
    expect(ids).toHaveLength(1);
    await fuzz({
      name: 'age/low-level-mutated',
      arb: fc.tuple(fc.nat(), mutationsArb),
      numRuns: n1,
      allowed: [],
      run: ([i, ms]) => {
        const f = mutate(files()[i % files().length]!, ms);
        const bin = lowLevel(() => dearmor(f.toString('latin1')));
        const file = bin === 'age-file-error' ? f : bin;
        lowLevel(() => parseHeader(file));
        return lowLevel(() => decryptX25519(file, ids));
      },
      check: (out) => {
        // Authenticated: a payload that comes out is the original one.
        if (Buffer.isBuffer(out)) expect(out.toString()).toBe(PLAIN);
      },
    });
  });

  const n2 = runs(1_000, 200_000);
  it('openAgeArmor never throws: the data or a reason', { timeout: budget(n2) }, async () => {
    const sshIds = parseSshPrivateKey(sshEd, 'ssh');
    await fuzz({
      name: 'age/openAgeArmor',
      arb: fc.tuple(fc.nat(), fc.boolean(), fc.oneof(mutationsArb, fc.constant([]))),
      numRuns: n2,
      allowed: [],
      run: async ([i, ssh, ms]) => {
        const f = mutate(files()[i % files().length]!, ms).toString('latin1');
        const ids = ssh ? [sshIds] : [parseAgeSecretKey(x.secret)!];
        return openAgeArmor(f, ids);
      },
      check: (out) => {
        if (typeof out !== 'string') expect(Buffer.from(out).toString()).toBe(PLAIN);
      },
    });
  });

  const n3 = runs(1_000, 150_000);
  it('decryptAgeFile ({age: FILE}) on mutated files, X25519 / SSH / wrong identities: the payload or a typed error', { timeout: budget(n3) }, async () => {
    const sources = [
      staticProvider([{ label: 'x25519', identities: [parseAgeSecretKey(x.secret)!] }]),
      staticProvider([{ label: 'ssh', identities: [parseSshPrivateKey(sshEd, 'ssh')] }]),
      staticProvider([{ label: 'other', identities: [parseAgeSecretKey(ageKeygen().secret)!] }]),
      staticProvider([]),
    ];
    await fuzz({
      name: 'age/decryptAgeFile',
      arb: fc.tuple(fc.nat(), fc.nat(), fc.oneof(mutationsArb, fc.constant([]))),
      numRuns: n3,
      secrets: [CANARY, ...keyMaterial],
      allowed: ['malformed', 'decrypt-failed', 'no-identity'],
      run: ([i, s, ms]) => decryptAgeFile(new Uint8Array(mutate(files()[i % files().length]!, ms)), 'secret.age', sources[s % sources.length]!),
      check: (out) => expect(Buffer.from(out).toString()).toBe(PLAIN),
    });
  });
});

describe('identities (fuzz)', () => {
  const n1 = runs(1_500, 300_000);
  it('parseKeyFile on mutated real key files (lines and words): identities or identity-invalid, never a key in the message', { timeout: budget(n1) }, async () => {
    await fuzz({
      name: 'identities/key-file-mutated',
      arb: fc.tuple(fc.oneof(mutationsArb, fc.constant([])), fc.boolean()),
      numRuns: n1,
      secrets: keyMaterial,
      allowed: ['identity-invalid'],
      run: ([ms, words]) => parseKeyFile(mutate(Buffer.from(keyFileText), ms).toString('utf8'), 'keys.txt', { words }),
    });
  });

  const n2 = runs(800, 100_000);
  it('parseIdentityContent (what every file/env/command source holds) on mutated keys, age files and SSH keys', { timeout: budget(n2, 10) }, async () => {
    const bases = () => [Buffer.from(keyFileText), Buffer.from(sshEd), Buffer.from(sshRsa), ageArmored, Buffer.from(`-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END RSA PRIVATE KEY-----\n`)];
    await fuzz({
      name: 'identities/content-mutated',
      arb: fc.tuple(fc.nat(), fc.oneof(mutationsArb, fc.constant([])), fc.boolean()),
      numRuns: n2,
      secrets: keyMaterial,
      allowed: ['identity-invalid', 'no-tty', 'malformed', 'decrypt-failed'],
      run: ([i, ms, words]) => {
        const b = mutate(bases()[i % bases().length]!, ms);
        return parseIdentityContent(new Uint8Array(b), 'source', { interactive: false, askPassphrase: async () => 'x', notes: () => undefined, words });
      },
    });
  });

  const n3 = runs(1_500, 200_000);
  it('parseSshPrivateKey on mutated real ed25519 and RSA keys (PEM text and the decoded blob)', { timeout: budget(n3, 10) }, async () => {
    const blobOf = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const wrap = (b: Buffer) => `-----BEGIN OPENSSH PRIVATE KEY-----\n${b.toString('base64').replace(/.{70}/g, '$&\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
    await fuzz({
      name: 'identities/ssh-key-mutated',
      arb: fc.tuple(fc.boolean(), fc.boolean(), mutationsArb),
      numRuns: n3,
      secrets: keyMaterial,
      allowed: ['identity-invalid'],
      run: ([rsa, blob, ms]) => {
        const pem = rsa ? sshRsa : sshEd;
        const text = blob ? wrap(mutate(blobOf(pem), ms.filter((m) => m.op !== 'huge'))) : mutate(Buffer.from(pem), ms).toString('utf8');
        return parseSshPrivateKey(text, 'id_key');
      },
    });
  });

  const n4 = runs(1_500, 300_000);
  it('parseRecipient on mutated real recipients (X25519, SSH) and arbitrary text', { timeout: budget(n4) }, async () => {
    await fuzz({
      name: 'identities/recipient-mutated',
      arb: fc.oneof(fc.tuple(fc.constantFrom(x.recipient, sshEdPub, `ssh-rsa ${'A'.repeat(400)}`), mutationsArb).map(([r, ms]) => mutate(Buffer.from(r), ms).toString('utf8')), tokenText),
      numRuns: n4,
      allowed: ['usage', 'identity-invalid', 'config-invalid', 'malformed'],
      run: (r) => parseRecipient(r),
    });
  });
});
