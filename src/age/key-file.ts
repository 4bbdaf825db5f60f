// Parses age key files (the format of age-keygen and sops' keys.txt) into identities.
import { WithSecretsError } from '../errors.js';
import type { DescribedIdentity } from './age-key-identity.js';
import { parseAgeSecretKey } from './secret-key.js';

/** A line of a key file that was not used, with the reason (never the line's text). */
export interface SkippedLine {
  readonly line: number;
  readonly reason: string;
}

/** The identities of one key file and the lines this version could not use. */
export interface ParsedKeyFile {
  readonly identities: DescribedIdentity[];
  readonly skipped: SkippedLine[];
}

/** Options of {@link parseKeyFile}. */
export interface ParseKeyFileOptions {
  /**
   * Split each line on whitespace and parse every word, as sops ≥ 3.13 does for `SOPS_AGE_KEY`
   * (so several keys can share one line of an environment variable).
   */
  readonly words?: boolean;
}

/**
 * Parses `text` as an age key file: blank lines and `#` comments are skipped, each other line is an
 * `AGE-SECRET-KEY-1…` (X25519) or `AGE-SECRET-KEY-PQ-1…` (hybrid) key. `AGE-PLUGIN-…` lines are
 * returned as skipped. Anything else is an `identity-invalid` error naming `source` and the line
 * number; the line's text is never quoted, since it may be key material.
 */
export function parseKeyFile(text: string, source: string, options: ParseKeyFileOptions = {}): ParsedKeyFile {
  const identities: DescribedIdentity[] = [];
  const skipped: SkippedLine[] = [];
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const words = options.words ? line.split(/\s+/) : [line];
    for (const word of words) {
      const parsed = parseIdentityWord(word, source, i + 1);
      if (parsed === 'plugin') skipped.push({ line: i + 1, reason: 'age plugin identities are not supported yet' });
      else identities.push(parsed);
    }
  }
  return { identities, skipped };
}

function parseIdentityWord(word: string, source: string, line: number): DescribedIdentity | 'plugin' {
  if (word.startsWith('AGE-PLUGIN-')) return 'plugin';
  if (word.startsWith('AGE-SECRET-KEY-1') || word.startsWith('AGE-SECRET-KEY-PQ-1')) {
    // X25519 keys on node:crypto, hybrid keys loaded lazily: reading keys never loads age-encryption (perf, issue 7).
    const identity = parseAgeSecretKey(word);
    if (identity === null) throw invalidLine(source, line, 'is a malformed age secret key (bad length or checksum)');
    return identity;
  }
  throw invalidLine(source, line, 'is not an age identity');
}

function invalidLine(source: string, line: number, what: string): WithSecretsError {
  return new WithSecretsError('identity-invalid', `${source}: line ${line} ${what}`, {
    hint: 'an age key file holds lines starting AGE-SECRET-KEY-1 or AGE-SECRET-KEY-PQ-1, comments (#) and blank lines',
  });
}
