// `{keyring: NAME}` references end to end against a real Secret Service (gnome-keyring on a private D-Bus).
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRunKeyringSession, startKeyringSession, type KeyringSession } from '../helpers/keyring-session.js';
import { fixture, makeWorld, parseReport, runCli, type LaunchWorld } from './launch-harness.js';

const available = canRunKeyringSession();
if (!available) console.warn('launch-keyring tests skipped: gnome-keyring-daemon, dbus or secret-tool is missing');

describe.skipIf(!available)('keyring references', () => {
  let w: LaunchWorld;
  let s: KeyringSession;
  const token = `kr-${Math.random().toString(36).slice(2)}`;
  beforeAll(async () => {
    w = makeWorld();
    s = await startKeyringSession('unlocked');
    // Stored the way secret-tool users do (the README documents this interop).
    const r = spawnSync('secret-tool', ['store', '--label=gh-token', 'service', 'with-secrets', 'account', 'gh-token', 'xdg:schema', 'org.freedesktop.Secret.Generic'], {
      env: s.env,
      input: `${token}\n`,
    });
    expect(r.status).toBe(0);
    w.config({ version: 1, profiles: { gh: { env: { GH_TOKEN: { keyring: 'gh-token' } } }, missing: { env: { X: { keyring: 'not-there' } } } } });
  });
  afterAll(() => {
    s?.stop();
    w?.cleanup();
  });
  const env = () => w.env({ DBUS_SESSION_BUS_ADDRESS: s.env['DBUS_SESSION_BUS_ADDRESS'], XDG_RUNTIME_DIR: s.env['XDG_RUNTIME_DIR'] });

  it('reads the token from the keyring into the child (one trailing newline dropped)', async () => {
    const r = await runCli(['run', '-p', 'gh', '--', fixture('print-env.mjs')], { env: env() });
    expect(r.stderr).toBe('');
    expect(parseReport(r.stdout).env['GH_TOKEN']).toBe(token);
  });

  it('a missing entry is a 125 naming it, never a silent run', async () => {
    const r = await runCli(['run', '-p', 'missing', '--', 'true'], { env: env() });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/not-there/);
    expect(r.stderr).toMatch(/needed for X in profile missing/);
  });
});
