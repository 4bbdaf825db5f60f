// The bin entry: the only code that reads process.argv, installs signal handlers and exits.
import { cli } from './cli.js';
import type { CliContext } from './context.js';
import { formatError } from './report.js';

// First thing, in every mode: on Node 20 an unhandled SIGUSR1 opens the inspector on a local
// port, a way into a process that holds secrets.
process.on('SIGUSR1', () => {});

const ctx: CliContext = {
  env: process.env,
  cwd: process.cwd(),
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
};

try {
  const outcome = await cli(process.argv.slice(2), ctx);
  if (outcome.kind === 'exit') {
    process.exitCode = outcome.code;
  } else {
    const { carryOutLaunch } = await import('./carry-out.js');
    await carryOutLaunch(outcome.plan);
  }
} catch (err) {
  process.stderr.write(formatError(err));
  process.exitCode = 125;
}
