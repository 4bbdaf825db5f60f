// Gathers a profile's secrets: every file read and every SOPS document opened once, values the profile does not name dropped.
import type { EnvFromSource, Profile, SecretRef } from '../config/config-types.js';
import { WithSecretsError } from '../errors.js';
import type { WantedValues } from '../sops/open.js';
import type { MapNode, Node, StoreFormat } from '../sops/tree.js';
import type { SecretValue } from './child-env.js';
import { decodeUtf8, stripOneNewline, toEnvValue } from './env-value.js';
import { isDangerousVariable, isReservedVariable, isValidVariableName } from './variables.js';

/** The readers behind the references; the launcher wires the real ones, tests may pass their own. */
export interface SecretReaders {
  /**
   * Opens a SOPS document, verifies its MAC and returns its decrypted branches. `wanted` lists what
   * will be read from it (key paths; all top-level values for envFrom): a reader may leave the other
   * values encrypted when the file's MAC is already known to hold (src/sops/mac-memo.ts).
   */
  openSops(file: string, format: StoreFormat | undefined, wanted?: WantedValues): Promise<readonly MapNode[]>;
  /** Finds `key` (a key path) in the document's branches; throws `key-not-found`. */
  lookupKey(branches: readonly MapNode[], key: string, file: string): Node;
  /** Decrypts a whole age file. */
  decryptAge(file: string): Promise<Uint8Array>;
  /** Reads a plaintext file. */
  readFile(file: string): Promise<Uint8Array>;
  /** Reads a token stored in the OS keyring. */
  readKeyring(name: string): Promise<string>;
}

/** Runs each distinct load once, however many secrets share it. */
function once<T>(): (key: string, load: () => Promise<T>) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (key, load) => {
    let p = cache.get(key);
    if (p === undefined) {
      p = load();
      cache.set(key, p);
    }
    return p;
  };
}

/** Adds "for VAR in profile P" to an error from a reader, keeping its code and hint. */
function inContext(e: unknown, what: string): unknown {
  if (!(e instanceof WithSecretsError)) return e;
  // A multi-line report (no identity: recipients and sources) gets the context as its own last line.
  const message = e.message.includes('\n') ? `${e.message}\n  needed for ${what}` : `${e.message} (needed for ${what})`;
  return new WithSecretsError(e.code, message, { ...(e.hint === undefined ? {} : { hint: e.hint }), cause: e });
}

/** Describes a reference for `--dry-run` and errors: where it comes from, never the value. */
export function describeRef(ref: SecretRef): string {
  switch (ref.kind) {
    case 'sops':
      return `${ref.file}: ${ref.key}`;
    case 'age':
      return `age file ${ref.file}`;
    case 'file':
      return `file ${ref.file}`;
    case 'keyring':
      return `keyring entry ${ref.name}`;
  }
}

/** Checks a variable name that came from an `envFrom` document. */
function checkEnvFromName(name: string, src: EnvFromSource, profile: Profile): void {
  if (!isValidVariableName(name)) {
    throw new WithSecretsError('env-invalid', `key "${name}" of ${src.file} (envFrom of profile ${profile.name}) is not a valid variable name`, {
      hint: 'envFrom documents must have top-level keys that are variable names (letters, digits, _); use env: with a key path for others',
    });
  }
  if (isReservedVariable(name)) throw new WithSecretsError('env-invalid', `${src.file} (envFrom of profile ${profile.name}) sets ${name}, with-secrets' own marker`);
  if (isDangerousVariable(name) && !profile.allowDangerous.includes(name)) {
    throw new WithSecretsError('dangerous-variable', `${src.file} (envFrom of profile ${profile.name}) sets ${name}, a dangerous variable (it changes which code runs)`, {
      hint: `if you mean it, add \`allowDangerous: [${name}]\` to the profile`,
    });
  }
}

/** Fails with the config's message for a path this environment could not expand (see SecretRef.unavailable). */
async function usable(unavailable: string | undefined): Promise<void> {
  if (unavailable !== undefined) throw new WithSecretsError('config-invalid', unavailable);
}

/**
 * Decrypts everything the profile names and returns the variables in order: `envFrom` documents
 * first (a later document wins over an earlier one), then `env`, which wins over `envFrom`.
 * Nothing but the named values leaves this function.
 */

export async function collectSecrets(profile: Profile, readers: SecretReaders): Promise<SecretValue[]> {
  const sops = once<readonly MapNode[]>();
  const bytes = once<Uint8Array>();
  const keyring = once<string>();
  // Everything the profile reads from each document, so a reader can decrypt only that (see SecretReaders.openSops).
  const wanted = new Map<string, { keys: string[]; topLevel: boolean }>();
  const want = (file: string, format: StoreFormat | undefined) => {
    const id = `${format ?? ''}\0${file}`;
    let w = wanted.get(id);
    if (w === undefined) wanted.set(id, (w = { keys: [], topLevel: false }));
    return w;
  };
  for (const src of profile.envFrom) want(src.file, src.format).topLevel = true;
  for (const { ref } of profile.env) if (ref.kind === 'sops') want(ref.file, ref.format).keys.push(ref.key);
  const openSops = (file: string, format: StoreFormat | undefined) => {
    const id = `${format ?? ''}\0${file}`;
    return sops(id, () => readers.openSops(file, format, wanted.get(id)));
  };

  const out = new Map<string, SecretValue>();
  for (const src of profile.envFrom) {
    const branches = await usable(src.unavailable)
      .then(() => openSops(src.file, src.format))
      .catch((e: unknown) => {
        throw inContext(e, `envFrom of profile ${profile.name}`);
      });
    // As sops exec-env: the top-level keys of the first document.
    for (const item of branches[0]?.items ?? []) {
      if (item.type !== 'entry') continue;
      checkEnvFromName(item.key, src, profile);
      const source = `${src.file}: ${item.key} (envFrom)`;
      out.delete(item.key);
      out.set(item.key, { name: item.key, value: toEnvValue(item.value, `${item.key} (from ${src.file})`, true), source });
    }
  }
  for (const { name, ref } of profile.env) {
    const what = `${name} in profile ${profile.name}`;
    let value: string;
    try {
      if (ref.kind !== 'keyring') await usable(ref.unavailable);
      switch (ref.kind) {
        case 'sops': {
          const branches = await openSops(ref.file, ref.format);
          value = toEnvValue(readers.lookupKey(branches, ref.key, ref.file), `${name} (${ref.key} in ${ref.file})`);
          break;
        }
        case 'age':
          value = stripOneNewline(decodeUtf8(await bytes(`age\0${ref.file}`, () => readers.decryptAge(ref.file)), `${name} (age file ${ref.file})`));
          break;
        case 'file':
          value = stripOneNewline(decodeUtf8(await bytes(`file\0${ref.file}`, () => readers.readFile(ref.file)), `${name} (file ${ref.file})`));
          break;
        case 'keyring':
          value = await keyring(ref.name, () => readers.readKeyring(ref.name));
          break;
      }
    } catch (e) {
      throw inContext(e, what);
    }
    out.delete(name);
    out.set(name, { name, value, source: describeRef(ref) });
  }
  return [...out.values()];
}
