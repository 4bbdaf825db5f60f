// Packaging smoke test: the packed tarball installs into a scratch prefix and its bin launches a profile.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, assertBuilt } from '../helpers/built-cli.js';
import { ageKeygen, makeSopsFile } from '../helpers/sops-fixture.js';

const scratch = mkdtempSync(join(tmpdir(), 'ws-pack-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('npm pack', () => {
  it('installs from the tarball and the installed bin runs a profile', async () => {
    assertBuilt();
    // --ignore-scripts: the suite has built dist/ already, and a rebuild here would race other tests.
    const name = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', scratch], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const listing = execFileSync('tar', ['tzf', join(scratch, name)], { encoding: 'utf8' });
    expect(listing).toContain('package/dist/with-secrets.js');
    expect(listing).toContain('package/shell/with-secrets.bash');
    expect(listing).not.toMatch(/package\/(src|test|node_modules)\//);

    const prefix = join(scratch, 'prefix');
    execFileSync('npm', ['install', '-g', '--prefix', prefix, join(scratch, name), '--no-audit', '--no-fund', '--prefer-offline'], { stdio: 'ignore', timeout: 180_000 });
    const bin = join(prefix, 'bin', 'with-secrets');
    expect(readdirSync(join(prefix, 'bin'))).toContain('with-secrets');

    const key = ageKeygen();
    const keyFile = join(scratch, 'keys.txt');
    writeFileSync(keyFile, `${key.secret}\n`, { mode: 0o600 });
    await makeSopsFile({ dir: scratch, name: 'secrets.yaml', plain: 'token: packed-canary\n', recipients: [key.recipient] });
    const config = join(scratch, 'config.yaml');
    writeFileSync(config, `sopsFile: ${join(scratch, 'secrets.yaml')}\nidentities:\n  - file: ${keyFile}\nprofiles:\n  sh:\n    env:\n      TOKEN: token\n`);
    const run = spawnSync(bin, ['--config', config, 'sh', '-c', 'test "$TOKEN" = packed-canary && echo matched'], {
      env: { PATH: `${prefix}/bin:${process.env.PATH}`, HOME: scratch },
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('matched\n');
    expect(run.status).toBe(0);
    // A launch runs dist/with-secrets-launch.cjs, every other command dist/with-secrets-main.cjs: both are shipped.
    const version = spawnSync(bin, ['--version'], { env: { PATH: `${prefix}/bin:${process.env.PATH}`, HOME: scratch }, encoding: 'utf8' });
    expect(version.stderr).toBe('');
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
    expect(version.status).toBe(0);
  }, 240_000);
});
