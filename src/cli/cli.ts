// Decides between the launch fast path (`with-secrets CMD …`) and the management commands.
import type { CliContext } from './context.js';
import type { Outcome } from './outcome.js';
import { isSubcommand } from './subcommands.js';

/** Global options that take a value, so the first non-option word (CMD) can be found without commander. */
const OPTIONS_WITH_VALUE = new Set(['-c', '--config', '-p', '--profile']);

/** Index of the first argument that is not a global option, or -1. */
function firstCommandIndex(args: readonly string[]): number {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return i + 1 < args.length ? i + 1 : -1;
    if (!a.startsWith('-') || a === '-') return i;
    if (OPTIONS_WITH_VALUE.has(a)) i++;
  }
  return -1;
}

/**
 * Runs with-secrets on `args` (argv without node and the script) and returns what to do:
 * exit with a code, or launch a child. Touches nothing but `ctx`.
 */
export async function cli(args: readonly string[], ctx: CliContext): Promise<Outcome> {
  const at = firstCommandIndex(args);
  const word = at >= 0 ? args[at]! : undefined;
  const wantsHelp = args.slice(0, at >= 0 ? at : args.length).some((a) => a === '-h' || a === '--help' || a === '-V' || a === '--version');
  if (word === undefined || wantsHelp || (isSubcommand(word) && args[at - 1] !== '--')) {
    const { runProgram } = await import('./program.js');
    return runProgram(args, ctx);
  }
  const { runLaunch } = await import('./launch-command.js');
  return runLaunch(args, at, ctx);
}
