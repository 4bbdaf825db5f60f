// The contract between identity sources (src/age) and everything that unwraps a data key.
import type { Identity } from 'age-encryption';

/** The identities one source gave, with a label that names the source and never holds key material. */
export interface LoadedSource {
  /** E.g. `SOPS_AGE_KEY_FILE (/home/u/key.txt)`, `keyring:work`, `~/.ssh/id_ed25519`. */
  readonly label: string;
  readonly identities: readonly Identity[];
}

/**
 * Hands out identities source by source, in the normative order, loading each source the first
 * time it is needed and at most once per provider (one provider per launch), so a passphrase or a
 * key command is asked for only when no earlier source opened the file.
 */
export interface IdentityProvider {
  /** The sources in order; sources already loaded are replayed from memory, not loaded again. */
  sources(): AsyncIterable<LoadedSource>;
  /** One line per source tried so far and its outcome (`2 identities`, `skipped: encrypted`, `not found`). */
  report(): readonly string[];
}

/** A provider over identities already in memory (tests, `SOPS_AGE_KEY`-only runs). */
export function staticProvider(sources: readonly LoadedSource[]): IdentityProvider {
  return {
    async *sources() {
      yield* sources;
    },
    report: () => sources.map((s) => `${s.label}: ${s.identities.length} identit${s.identities.length === 1 ? 'y' : 'ies'}`),
  };
}

/**
 * One entry of the config's `identities:` list. `file` is an age key file, a passphrase-protected
 * age identity file or an unencrypted OpenSSH private key (told apart by content); `command` is run
 * without a shell and its stdout parsed as a key file; `keyring` names an identity in the OS keyring.
 */
export type IdentitySpec =
  | { readonly file: string }
  | { readonly command: readonly string[] }
  | { readonly keyring: string };
