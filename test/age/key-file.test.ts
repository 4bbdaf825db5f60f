// Tests the age key-file parser against keys made by the real age-keygen and against malformed lines.
import { execFileSync } from 'node:child_process';
import { Decrypter, Encrypter } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { isWithSecretsError } from '../../src/errors.js';
import { parseKeyFile } from '../../src/age/key-file.js';

function ageKeygen(): { secret: string; recipient: string; file: string } {
  const file = execFileSync('age-keygen', [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const secret = file.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;
  const recipient = /# public key: (age1\S+)/.exec(file)![1]!;
  return { secret, recipient, file };
}

describe('parseKeyFile', () => {
  it('reads several keys with comments and blank lines, and knows each recipient', async () => {
    const a = ageKeygen();
    const b = ageKeygen();
    const text = `${a.file}\n\n   \n# another\n${b.file}\r\n`;
    const { identities, skipped } = parseKeyFile(text, 'test');
    expect(skipped).toEqual([]);
    expect(identities.map((i) => i.kind)).toEqual(['X25519', 'X25519']);
    expect(await identities[0]!.recipient()).toBe(a.recipient);
    expect(await identities[1]!.recipient()).toBe(b.recipient);
  });

  it('opens a file the real age encrypted to the key', async () => {
    const a = ageKeygen();
    const ct = execFileSync('age', ['-r', a.recipient], { input: 'hello' });
    const { identities } = parseKeyFile(a.file, 'test');
    const d = new Decrypter();
    for (const id of identities) d.addIdentity(id);
    expect(await d.decrypt(ct, 'text')).toBe('hello');
  });

  it('reads a post-quantum hybrid key and unwraps for it', async () => {
    const { generateHybridIdentity, identityToRecipient } = await import('age-encryption');
    const secret = await generateHybridIdentity();
    const e = new Encrypter();
    e.addRecipient(await identityToRecipient(secret));
    const ct = await e.encrypt('pq');
    const { identities } = parseKeyFile(`# pq\n${secret}\n`, 'test');
    expect(identities[0]!.kind).toBe('mlkem768x25519');
    const d = new Decrypter();
    d.addIdentity(identities[0]!);
    expect(await d.decrypt(ct, 'text')).toBe('pq');
  });

  it('skips AGE-PLUGIN lines with their line number', () => {
    const a = ageKeygen();
    const { identities, skipped } = parseKeyFile(`AGE-PLUGIN-YUBIKEY-1QQQQQ\n${a.secret}\n`, 'test');
    expect(identities).toHaveLength(1);
    expect(skipped).toEqual([{ line: 1, reason: expect.stringContaining('plugin') }]);
  });

  it('SOPS_AGE_KEY style: several keys on one line', () => {
    const a = ageKeygen();
    const b = ageKeygen();
    expect(parseKeyFile(`${a.secret} ${b.secret}`, 'SOPS_AGE_KEY', { words: true }).identities).toHaveLength(2);
  });

  it('rejects other lines naming the source and the line number, never the text', () => {
    const a = ageKeygen();
    const canary = 'CANARY-not-a-key-4711';
    const broken = a.secret.slice(0, -2) + (a.secret.endsWith('QQ') ? 'PP' : 'QQ');
    for (const [text, line] of [
      [`# c\n\n${canary}\n`, 3],
      [`${a.secret}\n${broken}\n`, 2],
    ] as const) {
      let err: unknown;
      try {
        parseKeyFile(text, '/tmp/keys.txt');
      } catch (e) {
        err = e;
      }
      expect(isWithSecretsError(err, 'identity-invalid')).toBe(true);
      const msg = `${(err as Error).message} ${(err as { hint?: string }).hint ?? ''} ${String((err as Error).stack)}`;
      expect(msg).toContain(`/tmp/keys.txt: line ${line}`);
      expect(msg).not.toContain(canary);
      expect(msg).not.toContain(broken.slice(20));
      expect(msg).not.toContain(a.secret.slice(20));
      expect((err as Error).cause).toBeUndefined();
    }
  });

  it('never shows the key through JSON or inspect', async () => {
    const a = ageKeygen();
    const { identities } = parseKeyFile(a.file, 'test');
    const { inspect } = await import('node:util');
    expect(JSON.stringify(identities)).not.toContain(a.secret.slice(20));
    expect(inspect(identities, { showHidden: true, depth: 10 })).not.toContain(a.secret.slice(20));
  });
});
