// The validated, typed config: profiles, their secret references, and the identities to open them with.
import type { IdentitySpec } from '../age/provider.js';
import type { StoreFormat } from '../sops/tree.js';

/**
 * Where one secret comes from. Paths are already expanded and absolute, except when `unavailable`
 * says why this environment cannot expand one (then `file` is the path as written, and using the
 * reference fails with that message: the other profiles still work).
 * `sops`: a key path in a SOPS document; `age`: the whole plaintext of an age-encrypted file;
 * `file`: a plaintext file something else decrypted; `keyring`: a token in the OS keyring.
 */
export type SecretRef =
  | { readonly kind: 'sops'; readonly file: string; readonly key: string; readonly format?: StoreFormat; readonly unavailable?: string }
  | { readonly kind: 'age'; readonly file: string; readonly unavailable?: string }
  | { readonly kind: 'file'; readonly file: string; readonly unavailable?: string }
  | { readonly kind: 'keyring'; readonly name: string };

/** One `env:` entry: the variable and its reference. */
export interface EnvBinding {
  readonly name: string;
  readonly ref: SecretRef;
}

/** One `envFrom:` entry: a SOPS document whose top-level keys all become variables. */
export interface EnvFromSource {
  readonly file: string;
  readonly format?: StoreFormat;
  /** As in {@link SecretRef}: why this environment cannot expand `file`. */
  readonly unavailable?: string;
}

/** A validated profile. */
export interface Profile {
  readonly name: string;
  /** What runs for `with-secrets NAME`: an absolute path, or a name looked up on PATH. */
  readonly command?: string;
  readonly env: readonly EnvBinding[];
  readonly envFrom: readonly EnvFromSource[];
  /** Overrides the config's `identities:` for this profile. */
  readonly identities?: readonly IdentitySpec[];
  /** Start from the small pristine environment instead of the whole parent environment. */
  readonly pristine: boolean;
  /** Dangerous variable names this profile may set. */
  readonly allowDangerous: readonly string[];
  /** with-secrets' own inputs (e.g. SOPS_AGE_KEY_FILE) that this profile passes on to the child. */
  readonly keepEnv: readonly string[];
}

/** A validated config file. */
export interface Config {
  /** The file it was read from (absolute). */
  readonly path: string;
  readonly version: 1;
  /** The default SOPS document that plain key-path references point into. */
  readonly sopsFile?: string;
  readonly identities?: readonly IdentitySpec[];
  readonly profiles: ReadonlyMap<string, Profile>;
}
