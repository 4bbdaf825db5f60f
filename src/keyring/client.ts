// Every OS keyring call, made through keytar in a child process that is killed after a timeout.
import { spawn } from 'node:child_process';
import { WithSecretsError } from '../errors.js';
import { WORKER_SOURCE } from './worker-script.js';

/** The services with-secrets stores under; the account is the user's NAME. */
export const SERVICE = {
  /** Age identities (`keyring: NAME` in `identities:`). */
  identity: 'with-secrets-identity',
  /** Tokens (`{keyring: NAME}` secret references). */
  token: 'with-secrets',
} as const;

/** Options every keyring call takes. */
export interface KeyringOptions {
  /** The environment the worker runs with (DBUS_SESSION_BUS_ADDRESS, XDG_RUNTIME_DIR, DISPLAY…). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Give up after this many ms (default 3000): a Secret Service that never answers makes keytar wait ~50 s. */
  readonly timeoutMs?: number;
  /** The Node binary that runs the worker (default: this one). */
  readonly nodePath?: string;
}

/** The default time limit of one keyring call, in ms. */
export const KEYRING_TIMEOUT_MS = 3000;

type Request = { op: 'get'; service: string; account: string } | { op: 'set'; service: string; account: string; secret: string } | { op: 'delete'; service: string; account: string };
type Reply = { ok: true; value: string | boolean | null } | { ok: false; stage: 'load' | 'call' | 'request'; message: string };

let keytarPath: string | undefined;

/** Where keytar is installed; `keyring-unavailable` naming the fix when it is not. */
function resolveKeytar(): string {
  if (keytarPath !== undefined) return keytarPath;
  try {
    // node:module only now: a launch that reads no keyring never loads it (perf, issue 7).
    keytarPath = process.getBuiltinModule('node:module').createRequire(import.meta.url).resolve('keytar');
    return keytarPath;
  } catch (e) {
    throw new WithSecretsError('keyring-unavailable', 'the OS keyring needs keytar, which is not installed (it is an optional dependency)', {
      cause: e,
      hint: 'install libsecret-1-dev, pkg-config and a C++ compiler, then reinstall with-secrets (npm rebuild keytar)',
    });
  }
}

/** Runs one keytar call in a child process; kills it after the timeout. */
async function call(req: Request, label: string, options: KeyringOptions): Promise<string | boolean | null> {
  const path = resolveKeytar();
  const timeoutMs = options.timeoutMs ?? KEYRING_TIMEOUT_MS;
  // The worker needs the session (D-Bus, display, HOME), not with-secrets' own key sources.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.env)) if (v !== undefined && !k.startsWith('SOPS_AGE_')) env[k] = v;
  const reply = await new Promise<Reply | 'timeout' | 'crash'>((resolve) => {
    const child = spawn(options.nodePath ?? process.execPath, ['-e', WORKER_SOURCE, path], { stdio: ['pipe', 'pipe', 'ignore'], env });
    let out = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', () => resolve('crash'));
    child.on('close', () => {
      clearTimeout(timer);
      if (timedOut) return resolve('timeout');
      try {
        resolve(JSON.parse(out) as Reply);
      } catch {
        resolve('crash');
      }
    });
    // The secret travels on the worker's stdin, never in its argv or environment.
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(req));
  });
  if (reply === 'timeout') {
    throw new WithSecretsError('keyring-unavailable', `${label}: the OS keyring did not answer within ${+(timeoutMs / 1000).toFixed(1)} s`, {
      hint: 'is the Secret Service (gnome-keyring, KeePassXC) stuck or waiting for an unlock prompt? Unlock it and retry',
    });
  }
  if (reply === 'crash') {
    throw new WithSecretsError('keyring-unavailable', `${label}: the keyring helper process failed`, { hint: 'run with --verbose, or check that keytar loads: node -e "require(\'keytar\')"' });
  }
  if (!reply.ok) throw classify(reply, label);
  return reply.value;
}

/** Turns a keytar/libsecret failure into our error; its text is kept as cause only. */
function classify(reply: { stage: string; message: string }, label: string): WithSecretsError {
  const m = reply.message;
  const cause = new Error(m);
  if (reply.stage === 'load') {
    if (/libsecret/.test(m)) {
      return new WithSecretsError('keyring-unavailable', `${label}: keytar cannot load libsecret`, { cause, hint: 'install libsecret (Debian: apt-get install libsecret-1-0)' });
    }
    return new WithSecretsError('keyring-unavailable', `${label}: keytar's native module does not load (missing, or built for another Node version)`, {
      cause,
      hint: 'rebuild it: npm rebuild keytar (needs libsecret-1-dev, pkg-config and a C++ compiler)',
    });
  }
  if (/locked/i.test(m)) return locked(label, cause);
  if (/org\.freedesktop\.secrets|ServiceUnknown|not provided by any/i.test(m)) {
    return new WithSecretsError('keyring-unavailable', `${label}: no Secret Service is running on the D-Bus session bus`, {
      cause,
      hint: 'start a keyring daemon (gnome-keyring-daemon --start --components=secrets, or KeePassXC with Secret Service on)',
    });
  }
  if (/D-?Bus|DBUS_SESSION_BUS_ADDRESS|autolaunch|connect/i.test(m)) {
    return new WithSecretsError('keyring-unavailable', `${label}: no D-Bus session bus, so no OS keyring`, {
      cause,
      hint: 'run inside a desktop or login session (DBUS_SESSION_BUS_ADDRESS set), or keep the key in a file instead',
    });
  }
  return new WithSecretsError('keyring-unavailable', `${label}: the OS keyring failed`, {
    cause,
    hint: 'the Secret Service answered with an error: check that it has a keyring (usually "login") and that it is unlocked, e.g. in Seahorse, or with: secret-tool store --label=test service test account test',
  });
}

function locked(label: string, cause?: unknown): WithSecretsError {
  return new WithSecretsError('keyring-locked', `${label}: the OS keyring is locked`, {
    cause,
    hint: 'unlock your keyring (log in to the desktop session, or open your keyring manager) and retry',
  });
}

/**
 * Whether the default Secret Service collection is locked, asked over D-Bus with `dbus-send`
 * (a locked collection hides its items: keytar then answers "not found"). Undefined when it
 * cannot be told (no dbus-send, not Linux, no answer).
 */
export function isDefaultCollectionLocked(options: KeyringOptions, budgetMs = 1500): Promise<boolean | undefined> {
  if (process.platform !== 'linux') return Promise.resolve(undefined);
  // The worker needs the session (D-Bus, display, HOME), not with-secrets' own key sources.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.env)) if (v !== undefined && !k.startsWith('SOPS_AGE_')) env[k] = v;
  return new Promise((resolve) => {
    const child = spawn(
      'dbus-send',
      ['--session', '--print-reply=literal', `--reply-timeout=${Math.max(100, budgetMs - 100)}`, '--dest=org.freedesktop.secrets', '/org/freedesktop/secrets/aliases/default', 'org.freedesktop.DBus.Properties.Get', 'string:org.freedesktop.Secret.Collection', 'string:Locked'],
      { stdio: ['ignore', 'pipe', 'ignore'], env },
    );
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), budgetMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => {
      clearTimeout(timer);
      const word = out.trim().split(/\s+/).pop();
      resolve(code === 0 && (word === 'true' || word === 'false') ? word === 'true' : undefined);
    });
  });
}

/** Reads the item (`service`, `account`); `keyring-not-found` when there is none, `keyring-locked` when locked. */
export async function keyringGet(service: string, account: string, label: string, options: KeyringOptions): Promise<string> {
  const started = Date.now();
  const value = await call({ op: 'get', service, account }, label, options);
  if (typeof value === 'string') return value;
  throw await notFound(service, account, label, options, started);
}

/** Stores `secret` under (`service`, `account`), replacing an existing item. */
export async function keyringSet(service: string, account: string, secret: string, label: string, options: KeyringOptions): Promise<void> {
  await call({ op: 'set', service, account, secret }, label, options);
}

/** Deletes the item; `keyring-not-found` when there was none (or `keyring-locked`). */
export async function keyringDelete(service: string, account: string, label: string, options: KeyringOptions): Promise<void> {
  const started = Date.now();
  const deleted = await call({ op: 'delete', service, account }, label, options);
  if (deleted !== true) throw await notFound(service, account, label, options, started);
}

/** "Not found", or "locked" when the collection is: the lock check gets what is left of the call's time limit. */
async function notFound(service: string, account: string, label: string, options: KeyringOptions, started: number): Promise<WithSecretsError> {
  const left = (options.timeoutMs ?? KEYRING_TIMEOUT_MS) - (Date.now() - started);
  const isLocked = await isDefaultCollectionLocked(options, Math.max(200, Math.min(1500, left)));
  if (isLocked === true) return locked(label);
  return new WithSecretsError('keyring-not-found', `${label}: no such item in the OS keyring (service ${service}, account ${account})`, {
    hint: isLocked === undefined ? 'check the name; if your keyring is locked, unlock it and retry' : 'check the name',
  });
}
