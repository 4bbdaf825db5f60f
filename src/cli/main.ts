// The bin entry: the only code that reads process.argv, installs signal handlers and exits.
import { writeSync } from 'node:fs';
import { cli } from './cli.js';
import type { CliContext, OutputStream } from './context.js';
import { formatError } from './report.js';

// First thing, in every mode: on Node 20 an unhandled SIGUSR1 opens the inspector on a local
// port, a way into a process that holds secrets.
process.on('SIGUSR1', () => {});

/**
 * stderr as plain synchronous writes to fd 2. process.stderr would put a pipe into non-blocking
 * mode (and reopen a terminal), and a child started by execve inherits that; `node:stream` and
 * `node:tty` (which loads `node:net`) are loaded only when something is written.
 */
function fdWriter(fd: number): OutputStream {
  const { Writable } = process.getBuiltinModule('node:stream');
  const { isatty } = process.getBuiltinModule('node:tty');
  const w = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      try {
        for (let off = 0; off < chunk.length; ) {
          try {
            off += writeSync(fd, chunk, off);
          } catch (e) {
            // A descriptor someone else made non-blocking: wait for room instead of losing output.
            if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
          }
        }
        callback();
      } catch (e) {
        callback(e as Error);
      }
    },
  });
  return Object.assign(w, { isTTY: isatty(fd), fd });
}

let stderr: OutputStream | undefined;
let stdoutGuarded = false;
/** The current directory; one deleted under us has no name any more, so the shell's $PWD (else /) stands in. */
function currentDir(): string {
  try {
    return process.cwd();
  } catch {
    const pwd = process.env['PWD'];
    return pwd !== undefined && pwd.startsWith('/') ? pwd : '/';
  }
}

const ctx: CliContext = {
  env: process.env,
  cwd: currentDir(),
  // stdin and stdout are created only when a command uses them; a launch never does.
  get stdin() {
    return process.stdin;
  },
  get stdout() {
    if (!stdoutGuarded) {
      stdoutGuarded = true;
      // A reader that went away (`with-secrets --help | head -1`): end as a tool killed by SIGPIPE
      // would (the shell sees 141), not with an uncaught EPIPE and a stack trace.
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') process.exit(128 + 13);
        throw e;
      });
    }
    return process.stdout;
  },
  get stderr() {
    return (stderr ??= fdWriter(2));
  },
  ...(process.argv[1] === undefined ? {} : { selfPath: process.argv[1] }),
};

// No top-level await: the bin bundles this file as CommonJS to run it with a V8 code cache (perf, issue 7).
async function main(): Promise<void> {
  try {
    const outcome = await cli(process.argv.slice(2), ctx);
    if (outcome.kind === 'exit') {
      process.exitCode = outcome.code;
    } else {
      const { carryOutLaunch } = await import('./carry-out.js');
      await carryOutLaunch(outcome.plan);
    }
  } catch (err) {
    ctx.stderr.write(formatError(err));
    process.exitCode = 125;
  }
}

void main();
