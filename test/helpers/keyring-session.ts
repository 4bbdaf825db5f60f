// A throwaway Secret Service for tests: gnome-keyring-daemon on a private D-Bus session bus, in a chosen state.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The four states the keyring code must handle. */
export type KeyringMode = 'unlocked' | 'locked' | 'no-provider' | 'no-bus';

/** A running session: the environment a client needs, and controls for the test. */
export interface KeyringSession {
  readonly mode: KeyringMode;
  /** PATH, HOME and the bus variables (no DISPLAY, so nothing autolaunches a real bus). */
  readonly env: Record<string, string | undefined>;
  /** Locks the login collection (as a screen lock would). */
  lock(): void;
  /** Stops (SIGSTOP) / resumes the keyring daemon: a Secret Service that never answers. */
  freeze(): void;
  thaw(): void;
  /** Kills the daemons and removes the temporary directory. */
  stop(): void;
}

/** True when the programs a real session needs are installed. */
export function canRunKeyringSession(): boolean {
  return ['dbus-daemon', 'dbus-send', 'gnome-keyring-daemon'].every((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0);
}

const BUS_CONF = (socket: string): string => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;
// No <servicedir>: nothing is ever D-Bus-activated (no real gnome-keyring on the user's files, no prompter).

function dbusSend(env: Record<string, string | undefined>, args: string[]): string {
  const r = spawnSync('dbus-send', ['--session', '--print-reply=literal', '--reply-timeout=2000', ...args], { env, encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout.trim() : '';
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Starts a session in `mode`; call `stop()` when done (afterAll). */
export async function startKeyringSession(mode: KeyringMode, password = 'keyring-test-password'): Promise<KeyringSession> {
  const dir = mkdtempSync(join(tmpdir(), 'ws-keyring-'));
  const base = { PATH: process.env['PATH'], HOME: join(dir, 'home') };
  mkdirSync(base.HOME, { mode: 0o700 });
  const procs: ChildProcess[] = [];
  let daemon: ChildProcess | undefined;
  const stop = (): void => {
    for (const p of procs.reverse()) {
      try {
        p.kill('SIGCONT');
        p.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const session = (env: Record<string, string | undefined>): KeyringSession => ({
    mode,
    env,
    lock: () => {
      dbusSend(env, ['--dest=org.freedesktop.secrets', '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.Lock', 'array:objpath:/org/freedesktop/secrets/collection/login']);
    },
    freeze: () => void daemon?.kill('SIGSTOP'),
    thaw: () => void daemon?.kill('SIGCONT'),
    stop,
  });

  if (mode === 'no-bus') {
    const run = join(dir, 'run');
    mkdirSync(run, { mode: 0o700 });
    return session({ ...base, XDG_RUNTIME_DIR: run });
  }

  const socket = join(dir, 'bus');
  writeFileSync(join(dir, 'bus.conf'), BUS_CONF(socket));
  const bus = spawn('dbus-daemon', ['--nofork', `--config-file=${join(dir, 'bus.conf')}`, '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  procs.push(bus);
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    bus.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
    });
    bus.on('exit', () => reject(new Error('dbus-daemon exited')));
    setTimeout(() => reject(new Error('dbus-daemon gave no address')), 10_000);
  }).catch((e: unknown) => {
    stop();
    throw e;
  });
  const env = { ...base, DBUS_SESSION_BUS_ADDRESS: address, XDG_RUNTIME_DIR: dir };
  if (mode === 'no-provider') return session(env);

  mkdirSync(join(dir, 'data'), { mode: 0o700 });
  mkdirSync(join(dir, 'control'), { mode: 0o700 });
  // --unlock reads the password from stdin and creates (and unlocks) the "login" keyring with it.
  daemon = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets', `--control-directory=${join(dir, 'control')}`], {
    env: { ...env, XDG_DATA_HOME: join(dir, 'data') },
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  procs.push(daemon);
  daemon.stdin!.end(password);
  const s = session(env);
  for (let i = 0; ; i++) {
    const owned = dbusSend(env, ['--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets']).includes('true');
    const lockedWord = owned
      ? dbusSend(env, ['--dest=org.freedesktop.secrets', '/org/freedesktop/secrets/collection/login', 'org.freedesktop.DBus.Properties.Get', 'string:org.freedesktop.Secret.Collection', 'string:Locked']).split(/\s+/).pop()
      : '';
    if (lockedWord === 'false') break;
    if (i > 100) {
      stop();
      throw new Error('gnome-keyring-daemon did not come up within ~10 s');
    }
    await sleep(100);
  }
  if (mode === 'locked') s.lock();
  return s;
}
