// `with-secrets [OPTIONS] CMD [ARGS…]` and `with-secrets run [OPTIONS] -- CMD [ARGS…]`: the launch fast path, no commander.
import { realpathSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { WithSecretsError } from '../errors.js';
import type { CliContext } from './context.js';
import { EXIT, launchExitCodeFor } from './exit-codes.js';
import { exitWith, type Outcome } from './outcome.js';
import { formatError } from './report.js';
import { splitShortOptions } from './route.js';

/** Which form was used: `with-secrets CMD` (the profile's `command:` may replace CMD) or `run -- CMD` (CMD runs as given). */
export type LaunchMode = 'launch' | 'run';

/** The launcher's options, which all come before CMD. */
export interface LaunchArgs {
  config?: string;
  profile?: string;
  keepExisting: boolean;
  pristine: boolean;
  verbose: boolean;
  dryRun: boolean;
  /** The command word as typed, and everything after it (untouched). */
  command: string;
  args: string[];
}

const USAGE_HINT = 'usage: with-secrets [--profile NAME] [--config FILE] [--keep-existing] [--pristine] [--verbose] [--dry-run] CMD [ARGS...]  (see with-secrets --help)';

function usage(message: string): WithSecretsError {
  return new WithSecretsError('usage', message, { hint: USAGE_HINT });
}

/**
 * Parses the options before CMD. In `run` mode the word `run` may appear once among them; `--`
 * ends the options. Everything after CMD belongs to the child.
 */
export function parseLaunchArgs(given: readonly string[], mode: LaunchMode): LaunchArgs {
  let argv = given;
  const out: Omit<LaunchArgs, 'command' | 'args'> = { keepExisting: false, pristine: false, verbose: false, dryRun: false };
  let seenRun = mode === 'launch';
  let i = 0;
  const value = (name: string): string => {
    const v = argv[++i];
    if (v === undefined) throw usage(`${name} needs a value`);
    return v;
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      if (!seenRun && a === 'run') {
        seenRun = true;
        continue;
      }
      break;
    }
    const grouped = splitShortOptions(a);
    if (grouped !== undefined) {
      argv = [...argv.slice(0, i), ...grouped, ...argv.slice(i + 1)];
      i--;
      continue;
    }
    const eq = a.indexOf('=');
    const [flag, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    switch (flag) {
      case '-c':
      case '--config':
        out.config = inline ?? value(flag);
        break;
      case '-p':
      case '--profile':
        out.profile = inline ?? value(flag);
        break;
      case '--keep-existing':
        out.keepExisting = true;
        break;
      case '--pristine':
        out.pristine = true;
        break;
      case '-v':
      case '--verbose':
        out.verbose = true;
        break;
      case '-n':
      case '--dry-run':
        out.dryRun = true;
        break;
      default:
        throw usage(`unknown option ${flag}${mode === 'launch' ? ' (options go before CMD; use `with-secrets run [OPTIONS] -- CMD ARGS` when in doubt)' : ''}`);
    }
    if (inline !== undefined && !['--config', '--profile'].includes(flag)) throw usage(`${flag} takes no value`);
  }
  const command = argv[i];
  if (command === undefined || command === '') throw usage('no command given');
  return { ...out, command, args: argv.slice(i + 1) };
}

/** Writes a line to stderr, prefixed like every with-secrets message. */
/** Names the config entry behind a command that came from a profile's `command:` when it cannot be started. */
function inProfileCommand(err: unknown, command: string, profile: string, configPath: string): unknown {
  if (!(err instanceof WithSecretsError) || (err.code !== 'command-not-found' && err.code !== 'command-not-executable')) return err;
  return new WithSecretsError(err.code, `${err.message} (profiles.${profile}.command in ${configPath})`, {
    cause: err,
    hint: /\s/.test(command)
      ? 'command: names the program only (a path or a name on PATH); give its arguments after it when you run it'
      : (err.hint ?? 'fix command: in the profile, or install the program'),
  });
}

function say(ctx: CliContext, line: string): void {
  ctx.stderr.write(`with-secrets: ${line}\n`);
}

/** Parses the launcher's options, plans the launch and returns it (or the exit code of a failure or dry run). */
export async function runLaunch(argv: readonly string[], _at: number, ctx: CliContext, mode: LaunchMode = 'launch'): Promise<Outcome> {
  let verbose = argv.includes('-v') || argv.includes('--verbose');
  try {
    const opts = parseLaunchArgs(argv, mode);
    verbose = opts.verbose;
    return await launch(opts, ctx, mode);
  } catch (err) {
    ctx.stderr.write(formatError(err, verbose));
    return exitWith(err instanceof WithSecretsError ? launchExitCodeFor(err.code) : 125);
  }
}

async function launch(opts: LaunchArgs, ctx: CliContext, mode: LaunchMode): Promise<Outcome> {
  // An empty HOME is no home (os.homedir would return it as it is): the password database's then.
  const homeDir = ctx.env['HOME'] || process.getBuiltinModule('node:os').userInfo().homedir;
  const [{ loadConfig, locateConfig }, { parseKeyPath }, { planLaunch, selectProfile }] = await Promise.all([
    import('../config/load-config.js'),
    import('../sops/key-path.js'),
    import('../launch/plan-launch.js'),
  ]);
  const configPath = locateConfig({ flag: opts.config, env: ctx.env, homeDir, cwd: ctx.cwd });
  const config = await loadConfig(configPath, { env: ctx.env, homeDir, checkKeyPath: (k) => void parseKeyPath(k) });
  const profileName = opts.profile ?? basename(opts.command);
  const profile = selectProfile(config, profileName);
  // `with-secrets codex` runs the profile's command when it has one; `run -- CMD` and explicit paths run CMD.
  const useProfileCommand = mode === 'launch' && profile.command !== undefined && opts.command === profile.name;
  const command = useProfileCommand ? profile.command! : opts.command;

  // node:fs is imported statically: `await import('node:fs')` would copy its ~100 exports into a new namespace object.
  const [{ createIdentityProvider }, { createSecretReaders }] = await Promise.all([import('../age/sources.js'), import('../launch/secret-readers.js')]);
  const note = (m: string) => say(ctx, m);
  const specs = profile.identities ?? config.identities;
  const identities = createIdentityProvider({
    env: ctx.env,
    homeDir,
    baseDir: dirname(config.path),
    // Asked only when a passphrase is needed: node:tty loads node:net, which a launch otherwise never needs (perf, issue 7).
    get interactive() {
      const { isatty } = process.getBuiltinModule('node:tty');
      return isatty(0) || isatty(2);
    },
    notes: note,
    ...(specs === undefined ? {} : { specs }),
    ...(opts.verbose ? { verbose: note } : {}),
  });
  const readers = createSecretReaders({
    identities,
    // `{keyring: NAME}`: a token under service `with-secrets`, account NAME; keytar runs in a killable worker.
    readKeyring: async (name) => (await import('../keyring/tokens.js')).readKeyringSecret(name, { env: ctx.env }),
    parseCache: { env: ctx.env, homeDir },
  });
  const selfPaths: string[] = [];
  if (ctx.selfPath !== undefined) {
    try {
      selfPaths.push(realpathSync.native(ctx.selfPath));
    } catch {
      /* started from a path that is gone: nothing to skip */
    }
  }
  const planned = await planLaunch({
    config,
    profile,
    command,
    argv0: command,
    args: opts.args,
    parentEnv: ctx.env,
    cwd: ctx.cwd,
    keepExisting: opts.keepExisting,
    pristine: opts.pristine,
    selfPaths,
    readers,
    platform: process.platform,
  }).catch((err: unknown) => {
    throw useProfileCommand ? inProfileCommand(err, command, profile.name, config.path) : err;
  });

  const { collisions, removedOuter } = planned.childEnv;
  if (opts.verbose || opts.dryRun) {
    const out = (line: string) => (opts.dryRun ? ctx.stdout.write(`${line}\n`) : say(ctx, line));
    out(`profile ${profile.name} (${config.path})`);
    out(`command ${planned.executable.path}${planned.executable.viaShell ? ' (a script without #!, run by /bin/sh)' : ''}`);
    for (const s of planned.secrets) out(`${s.name} <- ${s.source}`);
    if (collisions.length > 0) {
      out(opts.keepExisting ? `kept the parent's ${collisions.join(', ')} (--keep-existing)` : `replaced the parent's ${collisions.join(', ')} with the secret`);
    }
    if (removedOuter.length > 0) out(`removed ${removedOuter.join(', ')}, injected by an outer with-secrets`);
    if (planned.childEnv.injected.length === 0) out('no secrets injected');
  }
  if (opts.dryRun) return exitWith(EXIT.ok);
  return { kind: 'launch', plan: planned.plan };
}
