// Tells apart what an identity source holds (age key file, passphrase-protected file, SSH key) and parses it.
import { WithSecretsError } from '../errors.js';
import type { DescribedIdentity } from './age-key-identity.js';
import { parseKeyFile } from './key-file.js';

/** What parsing identity content may need from its caller. */
export interface ContentContext {
  /** Whether a passphrase may be asked for (a terminal is there and the command may prompt). */
  readonly interactive: boolean;
  /** Asks for a passphrase without echo; only called when `interactive`. */
  readonly askPassphrase: (prompt: string) => Promise<string>;
  /** Receives notes meant for the user (skipped lines); never key material. */
  readonly notes: (msg: string) => void;
  /** Parse each whitespace-separated word as an identity (`SOPS_AGE_KEY`). */
  readonly words?: boolean;
}

/** The content kinds an identity source can hold. */
export type ContentKind = 'age-keys' | 'age-encrypted' | 'ssh-openssh' | 'ssh-pem' | 'ssh-pem-encrypted';

/** Classifies identity content by its first line, as sops and age do. */
export function detectContentKind(text: string): ContentKind {
  const head = text.replace(/^\uFEFF/, '').trimStart();
  if (head.startsWith('age-encryption.org/') || head.startsWith('-----BEGIN AGE ENCRYPTED FILE-----')) return 'age-encrypted';
  if (head.startsWith('-----BEGIN OPENSSH PRIVATE KEY-----')) return 'ssh-openssh';
  if (head.startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----')) return 'ssh-pem-encrypted';
  if (/^-----BEGIN (RSA )?PRIVATE KEY-----/.test(head)) return /Proc-Type: *4,ENCRYPTED/.test(head) ? 'ssh-pem-encrypted' : 'ssh-pem';
  return 'age-keys';
}

/**
 * Parses the content of one identity source into identities. Passphrase-protected age files are
 * unlocked with a prompt (or refused with `no-tty` when no prompt is possible); SSH private keys
 * become native `ssh-ed25519` / `ssh-rsa` identities.
 */
export async function parseIdentityContent(bytes: Uint8Array, label: string, ctx: ContentContext): Promise<DescribedIdentity[]> {
  const text = Buffer.from(bytes).toString('utf8');
  const kind = detectContentKind(text);
  switch (kind) {
    case 'age-keys': {
      const parsed = parseKeyFile(text, label, ctx.words ? { words: true } : {});
      for (const s of parsed.skipped) ctx.notes(`${label}: line ${s.line} skipped: ${s.reason}`);
      return parsed.identities;
    }
    case 'age-encrypted': {
      const { unlockIdentityFile } = await import('./passphrase-file.js');
      const inner = await unlockIdentityFile(bytes, label, ctx);
      return parseIdentityContent(inner, `${label} (decrypted)`, { ...ctx, words: false });
    }
    case 'ssh-openssh':
    case 'ssh-pem': {
      const { parseSshPrivateKey } = await import('./ssh-key.js');
      return [parseSshPrivateKey(text, label)];
    }
    case 'ssh-pem-encrypted':
      throw encryptedSshKey(label);
  }
}

/** The error for a passphrase-protected SSH key, which with-secrets does not unlock. */
export function encryptedSshKey(label: string): WithSecretsError {
  return new WithSecretsError('identity-invalid', `${label}: the SSH key is passphrase-protected, which with-secrets cannot use`, {
    hint: 'use an age key instead (with-secrets identity generate), or print the key from a command via SOPS_AGE_KEY_CMD',
  });
}
