// The README's first command runs examples/demo.sh: keep it working, and keep its token out of the output.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, assertBuilt } from '../helpers/built-cli.js';

describe('examples/demo.sh', () => {
  it('makes a key, a SOPS file and a profile, and the child alone gets the token', () => {
    assertBuilt();
    const run = spawnSync('bash', ['examples/demo.sh'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: '/nonexistent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('OPENAI_API_KEY: set (22 characters)');
    expect(run.stdout).toContain('in this shell: <unset>');
    expect(run.stdout + run.stderr).not.toContain('sk-demo-not-a-real-key'.slice(3));
  });
});
