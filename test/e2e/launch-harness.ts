// Shared setup of the launcher's end-to-end tests: a temporary HOME with an age key, SOPS files, a config, fixture programs.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI as BUILT_CLI, NODE, type CliResult, type RunCliOptions } from '../helpers/built-cli.js';
import { ageKeygen, makeSopsFile } from '../helpers/sops-fixture.js';

/** The bin under test: dist/with-secrets.js, or `WITH_SECRETS_TEST_CLI` (a private build while others rebuild dist/). */
export const CLI = process.env.WITH_SECRETS_TEST_CLI ?? BUILT_CLI;
export { NODE };

/** Runs `with-secrets ARGS…` to completion (as test/helpers/built-cli.ts does, on {@link CLI}). */
export function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const child = spawn(NODE, [CLI, ...args], { env: options.env ?? {}, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  child.stdin!.end(options.input ?? '');
  return finished(child).finally(() => clearTimeout(timer));
}

/** The fixture programs (test/fixtures). */
export const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
export const fixture = (name: string) => join(FIXTURES, name);

/** One test world: HOME with the sops default key file, a TMPDIR, and helpers to write configs and SOPS files. */
export interface LaunchWorld {
  readonly root: string;
  readonly home: string;
  readonly tmp: string;
  readonly bin: string;
  readonly shims: string;
  readonly recipient: string;
  /** The environment a user's shell would pass (PATH with shims first, HOME, TMPDIR). */
  env(extra?: Record<string, string | undefined>): Record<string, string>;
  /** Writes the config (JSON, as Home Manager does, or YAML text) at the default location. */
  config(doc: unknown): string;
  /** Encrypts `plain` (YAML/JSON/dotenv text) into a SOPS file in HOME. */
  sops(name: string, plain: string, recipients?: readonly string[]): Promise<string>;
  /** Writes an executable into `dir`. */
  exe(dir: string, name: string, text: string): string;
  cleanup(): void;
}

/** Makes a fresh world under the system temp directory. */
export function makeWorld(): LaunchWorld {
  const root = mkdtempSync(join(tmpdir(), 'ws-launch-'));
  const home = join(root, 'home');
  const tmp = join(root, 'tmp');
  const bin = join(root, 'bin');
  const shims = join(root, 'shims');
  for (const d of [home, tmp, bin, shims, join(home, '.config', 'sops', 'age'), join(home, '.config', 'with-secrets')]) mkdirSync(d, { recursive: true });
  const { secret, recipient } = ageKeygen();
  writeFileSync(join(home, '.config', 'sops', 'age', 'keys.txt'), `# test key (throwaway)\n${secret}\n`, { mode: 0o600 });
  const exe = (dir: string, name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    chmodSync(p, 0o755);
    return p;
  };
  return {
    root,
    home,
    tmp,
    bin,
    shims,
    recipient,
    env: (extra = {}) => {
      const out: Record<string, string> = {
        PATH: `${shims}:${bin}:${FIXTURES}:${dirname(NODE)}:/usr/local/bin:/usr/bin:/bin`,
        HOME: home,
        TMPDIR: tmp,
        LANG: 'C.UTF-8',
      };
      for (const [k, v] of Object.entries(extra)) {
        if (v === undefined) delete out[k];
        else out[k] = v;
      }
      return out;
    },
    config: (doc) => {
      const p = join(home, '.config', 'with-secrets', 'config.yaml');
      writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
      return p;
    },
    sops: async (name, plain, recipients = [recipient]) => (await makeSopsFile({ dir: home, name, plain, recipients })).path,
    exe,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Starts `with-secrets ARGS…` (the built CLI on the Node under test) without waiting. */
export function startCli(args: readonly string[], env: Record<string, string>, stdio: 'pipe' | 'ignore' = 'pipe'): ChildProcess {
  return spawn(NODE, [CLI, ...args], { env, stdio: ['ignore', stdio, stdio] });
}

/** Waits for a child to end; gives its code, signal and output. */
export function finished(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Polls until `file` contains `text` (a condition, not a timing assertion); fails after ~20 s. */
export async function waitForText(file: string, text: string): Promise<string> {
  for (let i = 0; i < 400; i++) {
    if (existsSync(file)) {
      const t = readFileSync(file, 'utf8');
      if (t.includes(text)) return t;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${file} never contained ${JSON.stringify(text)}`);
}

/** Every regular file under `dir` (recursively) whose bytes contain `needle`. */
export function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (st === undefined) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}

/** The pids whose /proc/PID/cmdline contains `needle` (processes of any user that this one can read). */
export function cmdlinesContaining(needle: string): string[] {
  const hits: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`).includes(needle)) hits.push(pid);
    } catch {
      /* gone */
    }
  }
  return hits;
}

/** Parses the print-env fixture's report. */
export function parseReport(text: string): { argv: string[]; argv0: string; env: Record<string, string> } {
  return JSON.parse(text) as { argv: string[]; argv0: string; env: Record<string, string> };
}
