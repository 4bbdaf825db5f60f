// From config, profile and command line to a LaunchPlan: pick the profile, find the program, decrypt, build and size-check the environment.
import type { Config, Profile } from '../config/config-types.js';
import { WithSecretsError } from '../errors.js';
import { buildChildEnv, type ChildEnv } from './child-env.js';
import { collectSecrets, type SecretReaders } from './collect-secrets.js';
import { MAX_ARG_STRLEN, measureExecSize, readArgMax } from './env-size.js';
import type { LaunchPlan } from './plan.js';
import { FALLBACK_SHELL, resolveExecutable, type ResolvedExecutable } from './resolve-executable.js';

/** The profile called `name`, or a `profile-unknown` error that lists the known ones. */
export function selectProfile(config: Config, name: string): Profile {
  const profile = config.profiles.get(name);
  if (profile !== undefined) return profile;
  const known = [...config.profiles.keys()];
  throw new WithSecretsError('profile-unknown', `no profile "${name}" in ${config.path}${known.length > 0 ? ` (profiles: ${known.join(', ')})` : ' (it has no profiles)'}`, {
    hint: `add a profile "${name}" to the config, or choose one with --profile NAME; with-secrets never runs a program without its secrets`,
  });
}

/** What {@link planLaunch} needs. */
export interface PlanRequest {
  readonly config: Config;
  readonly profile: Profile;
  /** The program to run: a name searched on PATH, or a path. */
  readonly command: string;
  /** argv[0] for the child (what the user typed, or the profile's command). */
  readonly argv0: string;
  /** The arguments after the command, untouched. */
  readonly args: readonly string[];
  readonly parentEnv: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly keepExisting: boolean;
  /** `--pristine` on the command line (the profile's `pristine:` also turns it on). */
  readonly pristine: boolean;
  /** Real paths of with-secrets itself, skipped like shims during the PATH search. */
  readonly selfPaths: readonly string[];
  readonly readers: SecretReaders;
  readonly platform: NodeJS.Platform;
}

/** A launch ready to carry out, with what `--verbose` and `--dry-run` report (names and sources only). */
export interface PlannedLaunch {
  readonly plan: LaunchPlan;
  readonly executable: ResolvedExecutable;
  readonly secrets: ReadonlyArray<{ readonly name: string; readonly source: string }>;
  readonly childEnv: Omit<ChildEnv, 'env'>;
}

/** A program that changed less than this long ago may still be open for writing (see {@link LaunchPlan.recentlyChanged}). */
const SETTLE_MS = 10_000;

/**
 * Plans a launch. The program is found first (127/126 before any key is touched), then every
 * secret is decrypted (each file once, every MAC verified), then the child environment is built
 * and checked against the system's argv+environment limit.
 */
export async function planLaunch(req: PlanRequest): Promise<PlannedLaunch> {
  const executable = resolveExecutable(req.command, { pathEnv: req.parentEnv['PATH'], cwd: req.cwd, skipRealPaths: req.selfPaths });
  const secrets = await collectSecrets(req.profile, req.readers);
  const childEnv = buildChildEnv({
    parentEnv: req.parentEnv,
    secrets,
    pristine: req.pristine || req.profile.pristine,
    keepExisting: req.keepExisting,
    keepEnv: req.profile.keepEnv,
  });
  // A script without `#!` runs as the shells run it: `/bin/sh script args…`.
  const base: LaunchPlan = executable.viaShell
    ? { file: FALLBACK_SHELL, argv: [FALLBACK_SHELL, executable.path, ...req.args], env: childEnv.env }
    : { file: executable.path, argv: [req.argv0, ...req.args], env: childEnv.env };
  const plan: LaunchPlan = Date.now() - executable.lastChange < SETTLE_MS ? { ...base, recentlyChanged: true } : base;
  checkExecSize(plan, req.platform);
  const { env: _env, ...rest } = childEnv;
  return { plan, executable, secrets: secrets.map((s) => ({ name: s.name, source: s.source })), childEnv: rest };
}

/** Refuses a launch the kernel would refuse with E2BIG, with a message that says which limit (`check` asks too). */
export function checkExecSize(plan: LaunchPlan, platform: NodeJS.Platform): void {
  const { total, largest } = measureExecSize(plan.argv, plan.env);
  if (platform === 'linux' && largest.size > MAX_ARG_STRLEN) {
    throw new WithSecretsError('env-too-large', `${largest.name} is ${largest.size} bytes; one environment variable can hold at most ${MAX_ARG_STRLEN} bytes on Linux`, {
      hint: 'put a value that large in a file and pass its path instead (e.g. a {file: …} reference the program reads)',
    });
  }
  // The kernel also copies the file name onto the new stack, and for a #! script the script's path again and
  // the interpreter line (up to 256 bytes); keep a page of slack for what else it puts there.
  const extra = 2 * (Buffer.byteLength(plan.file) + 1) + 256 + 4096;
  // Below the smallest limit Linux ever has (MAX_ARG_STRLEN) there is nothing to check, and nothing to read.
  if (platform === 'linux' && total + extra <= MAX_ARG_STRLEN) return;
  const limit = readArgMax(platform);
  if (total + extra > limit) {
    throw new WithSecretsError('env-too-large', `the arguments and environment of the child take ${total} bytes; the system allows ${limit}`, {
      hint: 'use --pristine or a smaller environment, or move large values into files',
    });
  }
}
