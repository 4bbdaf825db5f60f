// Tests age's native SSH stanzas against the sops vector and the real age / ssh-keygen in both directions.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Decrypter, Encrypter, armor } from 'age-encryption';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSshPrivateKey } from '../../src/age/ssh-key.js';
import { parseRecipient } from '../../src/age/recipient.js';
import { isWithSecretsError } from '../../src/errors.js';

const VECTORS = resolve(__dirname, '../../../shared/vectors/getsops+sops/age-level');
const haveVectors = existsSync(VECTORS);
if (!haveVectors) console.warn(`skipping SSH vector tests: ${VECTORS} not found`);

const dir = mkdtempSync(join(tmpdir(), 'ws-ssh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sshKeygen(type: 'ed25519' | 'rsa', extra: string[] = []): { key: string; pub: string } {
  const key = join(dir, `${type}-${Math.random().toString(36).slice(2)}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', 'test@example', '-f', key, ...extra], { stdio: 'ignore' });
  return { key, pub: `${key}.pub` };
}

async function decryptWith(id: Parameters<Decrypter['addIdentity']>[0], ct: Uint8Array): Promise<string> {
  const d = new Decrypter();
  d.addIdentity(id);
  return d.decrypt(ct, 'text');
}

describe.skipIf(!haveVectors)('ssh-ed25519 vector (getsops/sops age/keysource_test.go)', () => {
  it('opens the file age 1.1.1 encrypted to the vector key, and knows its recipient', async () => {
    const id = parseSshPrivateKey(readFileSync(join(VECTORS, 'ssh-ed25519-identity.pem'), 'utf8'), 'vector');
    const pub = readFileSync(join(VECTORS, 'ssh-ed25519-recipient.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    expect(await id.recipient()).toBe(pub);
    const ct = armor.decode(readFileSync(join(VECTORS, 'ssh-ed25519-data.age.txt'), 'utf8'));
    expect(await decryptWith(id, ct)).toBe('data');
  });
});

describe.each(['ed25519', 'rsa'] as const)('ssh-%s with the real age and ssh-keygen', (type) => {
  const { key, pub } = sshKeygen(type);

  it('opens what `age -R key.pub` encrypted', async () => {
    const ct = execFileSync('age', ['-R', pub], { input: `hello ${type}` });
    const id = parseSshPrivateKey(readFileSync(key, 'utf8'), key);
    expect(id.kind).toBe(`ssh-${type}`);
    expect(await id.recipient()).toBe(readFileSync(pub, 'utf8').trim().split(/\s+/).slice(0, 2).join(' '));
    expect(await decryptWith(id, ct)).toBe(`hello ${type}`);
  });

  it('encrypts so that `age -d -i key` opens it', async () => {
    const r = parseRecipient(readFileSync(pub, 'utf8'));
    expect(r.kind).toBe(`ssh-${type}`);
    const e = new Encrypter();
    e.addRecipient(r);
    const ct = await e.encrypt(`to ${type}`);
    const file = join(dir, `ct-${type}.age`);
    writeFileSync(file, ct);
    expect(execFileSync('age', ['-d', '-i', key, file], { encoding: 'utf8' })).toBe(`to ${type}`);
  });

  it('does not open a file for another key of the same type', async () => {
    const other = sshKeygen(type);
    const ct = execFileSync('age', ['-R', other.pub], { input: 'x' });
    const id = parseSshPrivateKey(readFileSync(key, 'utf8'), key);
    await expect(decryptWith(id, ct)).rejects.toThrow(/no identity matched/);
  });

  it('refuses a passphrase-protected key, naming the alternatives', () => {
    const k = sshKeygen(type);
    execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'secret-pass', '-f', k.key], { stdio: 'ignore' });
    let err: unknown;
    try {
      parseSshPrivateKey(readFileSync(k.key, 'utf8'), k.key);
    } catch (e) {
      err = e;
    }
    expect(isWithSecretsError(err, 'identity-invalid')).toBe(true);
    expect((err as Error).message).toContain('passphrase-protected');
    expect((err as { hint: string }).hint).toMatch(/age key.*SOPS_AGE_KEY_CMD/);
  });
});

describe('PEM SSH keys', () => {
  it('reads a PEM (PKCS#1) RSA key as age does', async () => {
    const { key, pub } = sshKeygen('rsa', ['-m', 'PEM']);
    expect(readFileSync(key, 'utf8')).toContain('BEGIN RSA PRIVATE KEY');
    const ct = execFileSync('age', ['-R', pub], { input: 'pem' });
    expect(await decryptWith(parseSshPrivateKey(readFileSync(key, 'utf8'), key), ct)).toBe('pem');
  });
});

describe('PKCS#8 ed25519 keys', () => {
  it('reads a PEM PKCS#8 ed25519 key and opens what the real age encrypted to it', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const x = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
    const wire = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), x]);
    const pub = join(dir, 'pkcs8.pub');
    writeFileSync(pub, `ssh-ed25519 ${wire.toString('base64')}\n`);
    const ct = execFileSync('age', ['-R', pub], { input: 'pkcs8' });
    const id = parseSshPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'pkcs8');
    expect(await id.recipient()).toBe(`ssh-ed25519 ${wire.toString('base64')}`);
    expect(await decryptWith(id, ct)).toBe('pkcs8');
  });

  it('names the key type of a PKCS#8 key that cannot be an age identity (DSA, X448), with what to use instead', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const keys = {
      dsa: generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 }).privateKey,
      x448: generateKeyPairSync('x448').privateKey,
    };
    for (const [type, key] of Object.entries(keys)) {
      const pem = key.export({ format: 'pem', type: 'pkcs8' }).toString();
      expect(() => parseSshPrivateKey(pem, 'k.pem'), type).toThrow(expect.objectContaining({ code: 'identity-invalid', message: `k.pem: SSH key type "${type}" cannot be an age identity`, hint: expect.stringContaining('ssh-ed25519 and ssh-rsa') }));
    }
  });
});

describe('parseRecipient', () => {
  it('reads X25519 and PQ recipients and refuses the rest with usage', async () => {
    const keyFile = execFileSync('age-keygen', [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const x = /public key: (\S+)/.exec(keyFile)![1]!;
    const secret = keyFile.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;
    const r = parseRecipient(x);
    expect(r.kind).toBe('X25519');
    const e = new Encrypter();
    e.addRecipient(r);
    const ct = await e.encrypt('x25519');
    const f = join(dir, 'k.txt');
    writeFileSync(f, keyFile, { mode: 0o600 });
    writeFileSync(join(dir, 'x.age'), ct);
    expect(execFileSync('age', ['-d', '-i', f, join(dir, 'x.age')], { encoding: 'utf8' })).toBe('x25519');
    expect(secret).toBeTruthy();
    const { generateHybridIdentity, identityToRecipient } = await import('age-encryption');
    expect(parseRecipient(await identityToRecipient(await generateHybridIdentity())).kind).toBe('mlkem768x25519');
    for (const bad of ['age1xyz', 'ecdsa-sha2-nistp256 AAAA', 'ssh-ed25519 AAAA', 'age1yubikey1qqqq', 'hello', x.slice(0, -1) + (x.endsWith('q') ? 'p' : 'q')]) {
      expect(() => parseRecipient(bad), bad).toThrow(expect.objectContaining({ code: 'usage' }));
    }
  });
});

describe('copied vector key with 0600', () => {
  it.skipIf(!haveVectors)('is usable as SOPS_AGE_SSH_PRIVATE_KEY_FILE content', () => {
    const p = join(dir, 'id');
    copyFileSync(join(VECTORS, 'ssh-ed25519-identity.pem'), p);
    chmodSync(p, 0o600);
    expect(parseSshPrivateKey(readFileSync(p, 'utf8'), p).kind).toBe('ssh-ed25519');
  });
});
