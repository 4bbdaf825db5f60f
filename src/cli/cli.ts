// Runs the launch fast path (`with-secrets CMD …`, `with-secrets run -- CMD …`) or the management commands, as route.ts decides.
import type { CliContext } from './context.js';
import type { Outcome } from './outcome.js';
import { routeArgs } from './route.js';

/**
 * Runs with-secrets on `args` (argv without node and the script) and returns what to do:
 * exit with a code, or launch a child. Touches nothing but `ctx`. Launches never load commander.
 */
export async function cli(args: readonly string[], ctx: CliContext): Promise<Outcome> {
  const route = routeArgs(args);
  if (route.kind === 'program') {
    // The launch bundle (scripts/build.mjs) has no program.js: the bin runs it only for launch routes.
    const { runProgram } = await import('./program.js');
    return runProgram(args, ctx);
  }
  const { runLaunch } = await import('./launch-command.js');
  return runLaunch(args, route.at, ctx, route.mode);
}
