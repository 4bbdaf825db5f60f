// Runs an identity command (SOPS_AGE_KEY_CMD or a config `command:`) without a shell and returns its stdout.
import { spawn } from 'node:child_process';
import { WithSecretsError, errnoCode } from '../errors.js';

/** Options of {@link runKeyCommand}. */
export interface RunKeyCommandOptions {
  /** The environment the command sees. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Give up (and kill the command) after this many milliseconds; a hardware prompt needs time. */
  readonly timeoutMs: number;
  /** How the command is named in errors, e.g. `SOPS_AGE_KEY_CMD (pass show age)`. */
  readonly label: string;
  /** Largest stdout accepted; a key file is small. */
  readonly maxBytes?: number;
}

/**
 * Runs `argv` with stdin closed, stderr passed through (so a PIN or touch prompt shows) and stdout
 * captured. A failure names the command and how it failed, never what it printed.
 */
export function runKeyCommand(argv: readonly string[], options: RunKeyCommandOptions): Promise<Buffer> {
  const [file, ...args] = argv;
  if (file === undefined || file === '') {
    return Promise.reject(new WithSecretsError('config-invalid', `${options.label}: the command is empty`));
  }
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.env)) if (v !== undefined) env[k] = v;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failure: WithSecretsError | undefined;
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'], env, shell: false });
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      // A process the command left behind may still hold the pipe open: stop reading it.
      child.stdout.destroy();
      outcome();
    };
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null): void =>
      settle(() => {
        if (failure) reject(failure);
        else if (exitCode !== 0) {
          const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
          reject(new WithSecretsError('io', `${options.label}: ${how}`, { hint: 'its error output (above) says why' }));
        } else resolve(Buffer.concat(chunks));
      });
    const stop = (err: WithSecretsError): void => {
      failure ??= err;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 1000).unref();
      // Settled now, not when the pipe closes: a background process it started may keep that open for good.
      settle(() => reject(failure));
    };
    const timer = setTimeout(
      () => stop(new WithSecretsError('io', `${options.label}: timed out after ${+(options.timeoutMs / 1000).toFixed(1)} s`, { hint: 'the command must print the key file and exit' })),
      options.timeoutMs,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) stop(new WithSecretsError('identity-invalid', `${options.label}: printed more than ${maxBytes} bytes`));
      else chunks.push(chunk);
    });
    child.on('error', (err) => {
      const code = errnoCode(err);
      const why = code === 'ENOENT' ? 'command not found' : code === 'EACCES' ? 'command not executable' : `could not start (${code ?? 'error'})`;
      settle(() => reject(new WithSecretsError('io', `${options.label}: ${why}`, { cause: err })));
    });
    // Normally the pipe closes as the command exits. When something it started keeps the pipe open, what
    // the command printed has arrived by now: take it after a moment instead of waiting for that process.
    child.on('exit', (exitCode, signal) => {
      grace = setTimeout(() => finish(exitCode, signal), EXIT_GRACE_MS);
    });
    child.on('close', finish);
  });
}

/** How long after the command exits its output may still be arriving (see the 'exit' handler). */
const EXIT_GRACE_MS = 300;
