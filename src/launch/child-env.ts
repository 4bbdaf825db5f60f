// Builds the child's environment: the parent's (or the pristine set) minus with-secrets' inputs and an outer launch's secrets, plus this profile's secrets.
import { WithSecretsError } from '../errors.js';
import { INJECTED_MARKER, isPristineVariable, isValidVariableName, OWN_INPUTS } from './variables.js';

/** One secret to inject, with the description of where it came from (never the value). */
export interface SecretValue {
  readonly name: string;
  readonly value: string;
  /** E.g. `/home/u/.config/with-secrets/secrets.yaml: openai.api_key`. */
  readonly source: string;
}

/** Inputs of {@link buildChildEnv}. */
export interface ChildEnvInput {
  readonly parentEnv: Readonly<Record<string, string | undefined>>;
  readonly secrets: readonly SecretValue[];
  /** Keep only the pristine set of the parent's variables. */
  readonly pristine: boolean;
  /** A parent variable wins over a secret of the same name. */
  readonly keepExisting: boolean;
  /** with-secrets inputs (SOPS_AGE_*) the profile passes on. */
  readonly keepEnv: readonly string[];
}

/** The child's environment and what happened to names on the way. */
export interface ChildEnv {
  readonly env: Readonly<Record<string, string>>;
  /** Secrets whose name the parent already had (the secret won, unless `keepExisting`). */
  readonly collisions: readonly string[];
  /** The names actually injected (recorded in the marker variable). */
  readonly injected: readonly string[];
  /** Variables an outer with-secrets launch injected and this one removed. */
  readonly removedOuter: readonly string[];
}

/** The names an outer launch recorded in the marker variable (names only; malformed entries are ignored). */
export function readInjectedMarker(value: string | undefined): string[] {
  if (value === undefined || value === '') return [];
  return value.split(',').filter((n) => isValidVariableName(n));
}

/**
 * The one function that builds a child environment. Secrets win over the parent's variables
 * unless `keepExisting`; with-secrets' own inputs and any variables an outer launch injected are
 * removed, so a wrapped program started by a wrapped program gets its own profile's secrets only.
 */
export function buildChildEnv(input: ChildEnvInput): ChildEnv {
  // No prototype: `__proto__` is a valid variable name and must be an ordinary key here.
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  const parent = input.parentEnv;
  // Keys, not destructured entries: this runs cold on every launch (see validate-config.ts).
  for (const k of Object.keys(parent)) {
    const v = parent[k];
    if (v !== undefined) env[k] = v;
  }
  const removedOuter: string[] = [];
  for (const name of readInjectedMarker(env[INJECTED_MARKER])) {
    if (name in env) {
      delete env[name];
      removedOuter.push(name);
    }
  }
  delete env[INJECTED_MARKER];
  for (const name of OWN_INPUTS) {
    if (!input.keepEnv.includes(name)) delete env[name];
  }
  if (input.pristine) {
    for (const k of Object.keys(env)) {
      if (!isPristineVariable(k) && !input.keepEnv.includes(k)) delete env[k];
    }
  }
  const collisions: string[] = [];
  const injected: string[] = [];
  for (const s of input.secrets) {
    if (!isValidVariableName(s.name)) throw new WithSecretsError('env-invalid', `${s.name} (from ${s.source}) is not a valid variable name`);
    if (s.value.includes('\0')) {
      throw new WithSecretsError('env-invalid', `the value of ${s.name} (from ${s.source}) contains a NUL byte, which an environment variable cannot hold`);
    }
    if (Object.hasOwn(env, s.name)) {
      collisions.push(s.name);
      if (input.keepExisting) continue;
    }
    env[s.name] = s.value;
    injected.push(s.name);
  }
  if (injected.length > 0) env[INJECTED_MARKER] = injected.join(',');
  return { env, collisions, injected, removedOuter };
}
