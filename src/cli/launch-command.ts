// `with-secrets [OPTIONS] CMD [ARGS…]`: the launch fast path (owned by the launcher issue).
import { WithSecretsError } from '../errors.js';
import type { CliContext } from './context.js';
import { launchExitCodeFor } from './exit-codes.js';
import { exitWith, type Outcome } from './outcome.js';
import { formatError } from './report.js';

/** Parses the launcher's options and builds a launch plan for `args[at]`. */
export async function runLaunch(_args: readonly string[], _at: number, ctx: CliContext): Promise<Outcome> {
  const err = new WithSecretsError('usage', 'launching is not implemented yet');
  ctx.stderr.write(formatError(err));
  return exitWith(launchExitCodeFor(err.code));
}
