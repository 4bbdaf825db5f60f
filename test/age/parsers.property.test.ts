// Property tests: identity and recipient parsers on arbitrary input give a typed error or a value, never a crash or an echo.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WithSecretsError } from '../../src/errors.js';
import { parseKeyFile } from '../../src/age/key-file.js';
import { parseRecipient } from '../../src/age/recipient.js';
import { parseSshPrivateKey } from '../../src/age/ssh-key.js';
import { splitShellWords } from '../../src/age/shell-split.js';

const MARK = 'ZQXJ';

/** Runs `f`; it must return or throw a WithSecretsError whose text does not contain the marked input. */
function typedOrValue(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WithSecretsError);
    const err = e as WithSecretsError;
    expect(`${err.message} ${err.hint ?? ''}`).not.toContain(MARK);
  }
}

const marked = fc.string({ maxLength: 200 }).map((s) => `${s}${MARK}${s}`);
const lines = fc.array(fc.oneof(marked, fc.constantFrom('', '# c', 'AGE-SECRET-KEY-1', 'AGE-SECRET-KEY-PQ-1', 'AGE-PLUGIN-X-1Q', '\r', ' \t ')), { maxLength: 20 });

describe('parser properties', () => {
  it('parseKeyFile', () => {
    fc.assert(
      fc.property(lines, fc.boolean(), (ls, words) => {
        typedOrValue(() => parseKeyFile(ls.join('\n'), 'src', { words }));
      }),
      { numRuns: 300 },
    );
  });

  it('parseKeyFile on a near-miss key (one character changed) never quotes it', () => {
    const key = 'AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGP';
    fc.assert(
      fc.property(fc.integer({ min: 16, max: key.length - 1 }), fc.constantFrom(...'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L'), (i, c) => {
        const k = key.slice(0, i) + c + key.slice(i + 1);
        try {
          parseKeyFile(k, 'src');
        } catch (e) {
          expect((e as Error).message).not.toContain(k.slice(16));
        }
      }),
    );
  });

  it('parseRecipient', () => {
    fc.assert(
      fc.property(fc.oneof(marked, marked.map((s) => `ssh-ed25519 ${Buffer.from(s).toString('base64')}`), marked.map((s) => `ssh-rsa ${Buffer.from(s).toString('base64')}`), marked.map((s) => `age1${s}`)), (s) => {
        typedOrValue(() => parseRecipient(s));
      }),
      { numRuns: 300 },
    );
  });

  it('parseSshPrivateKey', () => {
    const wrap = (b: Uint8Array) => `-----BEGIN OPENSSH PRIVATE KEY-----\n${Buffer.from(b).toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`;
    const magic = Buffer.from('openssh-key-v1\0', 'latin1');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, withMagic) => {
        typedOrValue(() => parseSshPrivateKey(wrap(withMagic ? Buffer.concat([magic, bytes]) : bytes), 'src'));
      }),
      { numRuns: 300 },
    );
  });

  it('splitShellWords', () => {
    fc.assert(
      fc.property(marked, (s) => {
        typedOrValue(() => splitShellWords(s, 'cmd'));
      }),
      { numRuns: 300 },
    );
  });
});
