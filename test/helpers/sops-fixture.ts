// Test helper: makes real sops files: values encrypted by our code, the data key wrapped by the real `age` CLI.
//
// Usage:
//   const { secret, recipient } = ageKeygen();
//   const f = await makeSopsFile({ dir, name: 'secrets.yaml', plain: 'openai:\n  api_key: sk-1\n', recipients: [recipient] });
//   // f.path is a sops file (0600); open it with SOPS_AGE_KEY=secret or a key file from writeKeyFile(dir, [secret]).
//
// The data key (or each Shamir share) is wrapped with `age -a -r …` (the Debian age CLI), so fixtures do
// not depend on our own wrap code. age 1.1.1 has no post-quantum recipients: `age1pq1…` recipients are
// wrapped with age-encryption instead (noted in `wrappedBy`).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { wrapDataKey } from '../../src/sops/data-key.js';
import { encryptBranches } from '../../src/sops/encrypt.js';
import { compileRules, type EncryptionRules } from '../../src/sops/encryption-rules.js';
import { encryptMac } from '../../src/sops/mac.js';
import { metadataToTree, type AgeKey, type KeyGroup, type Metadata } from '../../src/sops/metadata.js';
import { splitSecret } from '../../src/sops/shamir.js';
import { emitStore, loadStore } from '../../src/sops/stores/index.js';
import type { MapNode, StoreFormat } from '../../src/sops/tree.js';

/** Options of {@link makeSopsFile}. */
export interface SopsFixtureOptions {
  /** Folder to write into (e.g. a mkdtemp). */
  readonly dir: string;
  /** File name; its extension picks the format unless `format` is given. */
  readonly name: string;
  readonly format?: StoreFormat;
  /** The plaintext: file text in `format` (binary: any text), or ready-made branches. */
  readonly plain: string | readonly MapNode[];
  /** One key group with these age recipients (`age1…`; `age1pq1…` wrapped with age-encryption). */
  readonly recipients?: readonly string[];
  /** Several key groups (Shamir): the recipients of each group. Use instead of `recipients`. */
  readonly groups?: readonly (readonly string[])[];
  /** Shares needed with `groups` (default: all groups). */
  readonly threshold?: number;
  /** A partial-encryption rule (default: `unencrypted_suffix: _unencrypted`). */
  readonly rules?: EncryptionRules;
  readonly macOnlyEncrypted?: boolean;
  /** RFC 3339 (default: now, whole seconds, UTC). */
  readonly lastmodified?: string;
}

/** A written fixture. */
export interface SopsFixture {
  readonly path: string;
  readonly text: string;
  readonly format: StoreFormat;
  /** The data key, for tests that tamper at the crypto level. */
  readonly dataKey: Uint8Array;
  /** `age-cli` for every armor, or `mixed` when some (PQ) came from age-encryption. */
  readonly wrappedBy: 'age-cli' | 'mixed';
}

/** A fresh X25519 key pair from the real `age-keygen`. */
export function ageKeygen(): { secret: string; recipient: string } {
  const out = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return { secret: /^AGE-SECRET-KEY-1\S+$/m.exec(out)![0], recipient: /public key: (age1\S+)/.exec(out)![1]! };
}

/** Writes a 0600 key file holding the given secret keys (one per line, with a comment) and returns its path. */
export function writeKeyFile(dir: string, secrets: readonly string[], name = 'keys.txt'): string {
  const path = join(dir, name);
  writeFileSync(path, `# test keys (throwaway, made by the tests)\n${secrets.join('\n')}\n`, { mode: 0o600 });
  return path;
}

/** Wraps `secret` for one recipient with the real age CLI (armored, as sops stores `enc`). */
function ageCliWrap(secret: Uint8Array, recipient: string): string {
  return execFileSync('age', ['-a', '-r', recipient], { input: secret, encoding: 'utf8' });
}

function formatOf(name: string): StoreFormat {
  if (name.endsWith('.yaml') || name.endsWith('.yml')) return 'yaml';
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.env')) return 'dotenv';
  if (name.endsWith('.ini')) return 'ini';
  return 'binary';
}

/** Encrypts a plaintext into a sops file in `dir` as described by the options. */
export async function makeSopsFile(options: SopsFixtureOptions): Promise<SopsFixture> {
  const format = options.format ?? formatOf(options.name);
  const groupRecipients = options.groups ?? [options.recipients ?? []];
  if (groupRecipients.length === 0 || groupRecipients.some((g) => g.length === 0)) throw new Error('makeSopsFile: give recipients or groups');
  const branches =
    typeof options.plain === 'string'
      ? (await loadStore(format, options.plain, options.name, format === 'binary' ? { binary: 'plain' } : {})).branches
      : [...options.plain];

  const dataKey = new Uint8Array(randomBytes(32));
  const multi = groupRecipients.length > 1;
  const threshold = multi ? (options.threshold ?? groupRecipients.length) : 0;
  const secrets = multi ? splitSecret(dataKey, groupRecipients.length, threshold) : [dataKey];
  let wrappedBy: SopsFixture['wrappedBy'] = 'age-cli';
  const keyGroups: KeyGroup[] = [];
  for (let g = 0; g < groupRecipients.length; g++) {
    const age: AgeKey[] = [];
    for (const r of groupRecipients[g]!) {
      if (r.startsWith('age1pq1')) {
        wrappedBy = 'mixed';
        const [[k]] = (await wrapDataKeyFor(secrets[g]!, r)) as [[AgeKey]];
        age.push(k);
      } else {
        age.push({ recipient: r, enc: ageCliWrap(secrets[g]!, r) });
      }
    }
    keyGroups.push({ age, others: [] });
  }

  const rules = compileRules(options.rules ?? {}, options.name);
  const macOnlyEncrypted = options.macOnlyEncrypted ?? false;
  const encrypted = encryptBranches(branches, dataKey, rules, macOnlyEncrypted);
  const lastmodified = options.lastmodified ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const metadata: Metadata = {
    keyGroups,
    shamirThreshold: threshold,
    lastmodified,
    mac: encryptMac(encrypted.mac, dataKey, lastmodified, options.name),
    version: undefined,
    rules: options.rules ?? {},
    macOnlyEncrypted,
  };
  const text = await emitStore(format, encrypted.branches, metadataToTree(metadata));
  const path = join(options.dir, options.name);
  writeFileSync(path, text, { mode: 0o600 });
  return { path, text, format, dataKey, wrappedBy };
}

/** age 1.1.1 cannot wrap for post-quantum recipients: use age-encryption through our wrap for those only. */
async function wrapDataKeyFor(secret: Uint8Array, recipient: string): Promise<AgeKey[][]> {
  if (secret.length === 32) return wrapDataKey(secret, [[recipient]]);
  // A 33-byte Shamir share: wrapDataKey only takes data keys, so wrap the share with age-encryption directly.
  const age = await import('age-encryption');
  const e = new age.Encrypter();
  e.addRecipient(recipient);
  return [[{ recipient, enc: age.armor.encode(await e.encrypt(secret)) }]];
}
