// Runs the built CLI (dist/with-secrets.js) as a user would: a real child process with its own env.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The built bin; `npm run build` makes it. */
export const CLI = fileURLToPath(new URL('../../dist/with-secrets.js', import.meta.url));
/** The Node that runs the CLI: `WITH_SECRETS_TEST_NODE` (Node 22 in CI's second pass) or this one. */
export const NODE = process.env.WITH_SECRETS_TEST_NODE ?? process.execPath;

/** What a finished CLI run gave. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** The complete environment (nothing is inherited unless you spread process.env). */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed; stdin is /dev/null-like (empty) otherwise. */
  input?: string;
  cwd?: string;
  /** Kill after this many ms (default 20 s) so a hang fails the test instead of stalling CI. */
  timeoutMs?: number;
}

/** Throws a clear error when the CLI has not been built. */
export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
}

/** Runs `with-secrets ARGS…` and collects its output. */
export function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [CLI, ...args], {
      env: options.env ?? { PATH: process.env.PATH, HOME: process.env.HOME },
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
