// An unreadable secrets or key file (EACCES): as root chmod blocks nothing, so the CLI runs as another user (setpriv).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, NODE } from '../helpers/built-cli.js';
import { ageKeygen, makeSopsFile } from '../helpers/sops-fixture.js';

const NOBODY = 65534;
const CANARY = 'CANARY-eacces-7Qp2';

/** Whether `nobody` can run the built CLI here: root, setpriv, and every directory up to the bin traversable. */
function canRunAsNobody(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (spawnSync('setpriv', ['--version']).status !== 0) return 'setpriv (util-linux) is not installed';
  const probe = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', NODE, '-e', `require('fs').accessSync(${JSON.stringify(CLI)})`]);
  return probe.status === 0 ? undefined : `user ${NOBODY} cannot read ${CLI} (the checkout is not world-readable)`;
}

const why = canRunAsNobody();
if (why) console.warn(`unreadable-file tests skipped: ${why}`);

describe.skipIf(why !== undefined)('files the user cannot read (EACCES)', () => {
  const home = mkdtempSync(join(tmpdir(), 'ws-eacces-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  function run(args: string[]) {
    return spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', NODE, CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: home },
      encoding: 'utf8',
      timeout: 30_000,
    });
  }

  it('an unreadable secrets file or key file is a clear 125 naming it, with no value printed', async () => {
    chownSync(home, NOBODY, NOBODY);
    chmodSync(home, 0o700);
    const key = ageKeygen();
    const keyFile = join(home, 'keys.txt');
    writeFileSync(keyFile, `${key.secret}\n`, { mode: 0o600 });
    chownSync(keyFile, NOBODY, NOBODY);
    const secrets = (await makeSopsFile({ dir: home, name: 's.yaml', plain: `tok: ${CANARY}\n`, recipients: [key.recipient] })).path;
    chownSync(secrets, NOBODY, NOBODY);
    const config = join(home, 'config.yaml');
    writeFileSync(config, `sopsFile: ${secrets}\nidentities:\n  - file: ${keyFile}\nprofiles:\n  sh:\n    env:\n      TOK: tok\n`);
    chownSync(config, NOBODY, NOBODY);

    const ok = run(['--config', config, 'sh', '-c', 'test "$TOK" = "$0" && echo same', CANARY]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('same\n');

    // Owned by root and 0600: the user cannot read it, whatever with-secrets checks first.
    chownSync(secrets, 0, 0);
    const noSecrets = run(['--config', config, 'sh', '-c', 'echo ran']);
    expect(noSecrets.status).toBe(125);
    expect(noSecrets.stdout).toBe('');
    expect(noSecrets.stderr).toContain(`${secrets}: permission denied`);
    expect(noSecrets.stderr).not.toContain(CANARY);
    chownSync(secrets, NOBODY, NOBODY);

    chownSync(keyFile, 0, 0);
    const noKey = run(['--config', config, 'sh', '-c', 'echo ran']);
    expect(noKey.status).toBe(125);
    expect(noKey.stdout).toBe('');
    expect(noKey.stderr).toContain(keyFile);
    expect(noKey.stderr).not.toContain(CANARY);
    expect(noKey.stderr).not.toContain(key.secret);
  });
});
