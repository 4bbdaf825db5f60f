// The management commands, parsed with commander; loaded only when a subcommand is used.
import { Command, CommanderError } from 'commander';
import { WithSecretsError } from '../errors.js';
import type { CliContext } from './context.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { exitWith, type Outcome } from './outcome.js';
import { formatError } from './report.js';
import { COMMANDS } from './commands/index.js';
import { VERSION } from '../version.js';

/** State shared by command actions: the context and the outcome an action sets. */
export interface CommandState {
  readonly ctx: CliContext;
  outcome: Outcome;
}

/** Builds the commander program with every subcommand registered. */
export function buildProgram(state: CommandState): Command {
  const program = new Command('with-secrets');
  program
    .usage('[options] COMMAND [ARGS...]  |  with-secrets SUBCOMMAND ...')
    .description(
      'Start a program with secrets decrypted from SOPS+age files, given to that program\'s environment only.\n' +
        'With COMMAND, the profile named like COMMAND (or --profile) supplies the secrets.',
    )
    .version(VERSION, '-V, --version', 'print the version of with-secrets')
    .option('-c, --config <file>', 'config file (default: $WITH_SECRETS_CONFIG, else $XDG_CONFIG_HOME/with-secrets/config.yaml)')
    .option('-v, --verbose', 'say what is done (names and sources, never values)')
    .configureOutput({
      writeOut: (s) => state.ctx.stdout.write(s),
      writeErr: (s) => state.ctx.stderr.write(s),
    })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    // Every subcommand takes --config and --verbose: its own --help lists them too.
    .configureHelp({ showGlobalOptions: true });
  for (const register of COMMANDS) register(program, state);
  program.addHelpText(
    'afterAll',
    '\nExit status of the other commands: 0 ok, 1 check/doctor found problems, 2 usage, 3 config invalid,\n' +
      '4 no identity opens a file, 5 integrity (MAC or AES-GCM) failure, 6 malformed input, 7 key path not found,\n' +
      '8 keyring unavailable/locked/missing, 9 I/O.\n' +
      'Environment: WITH_SECRETS_CONFIG (config file), SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD,\n' +
      'SOPS_AGE_SSH_PRIVATE_KEY_FILE (identities, tried first), XDG_CONFIG_HOME, XDG_CACHE_HOME, XDG_RUNTIME_DIR.\n' +
      'No command prints a secret value except `decrypt`, which exists to do so.',
  );
  return program;
}

/** Runs a management command and returns its outcome; never exits the process. */
export async function runProgram(args: readonly string[], ctx: CliContext): Promise<Outcome> {
  const state: CommandState = { ctx, outcome: exitWith(EXIT.ok) };
  const program = buildProgram(state);
  try {
    await program.parseAsync(args as string[], { from: 'user' });
    return state.outcome;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are exits with code 0; anything else commander rejects is a usage error.
      return exitWith(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
    }
    const verbose = Boolean(program.opts<{ verbose?: boolean }>().verbose);
    ctx.stderr.write(formatError(err, verbose));
    return exitWith(err instanceof WithSecretsError ? exitCodeFor(err.code) : EXIT.io);
  }
}
