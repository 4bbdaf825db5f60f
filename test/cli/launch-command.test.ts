// The launcher's option parsing and the fast-path dispatch (in process, no child started).
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { cli } from '../../src/cli/cli.js';
import type { CliContext } from '../../src/cli/context.js';
import { parseLaunchArgs } from '../../src/cli/launch-command.js';

describe('parseLaunchArgs', () => {
  it('reads options before CMD and leaves everything after CMD untouched', () => {
    expect(parseLaunchArgs(['-p', 'gh', '--keep-existing', '-v', 'gh', '--pristine', '-p', 'x'], 'launch')).toEqual({
      profile: 'gh',
      keepExisting: true,
      pristine: false,
      verbose: true,
      dryRun: false,
      command: 'gh',
      args: ['--pristine', '-p', 'x'],
    });
    expect(parseLaunchArgs(['--config=/c.yaml', '--profile=p', '--dry-run', '--', '--odd-cmd', 'a'], 'launch')).toMatchObject({ config: '/c.yaml', profile: 'p', dryRun: true, command: '--odd-cmd', args: ['a'] });
  });
  it('takes short options written together, as commander does for the other commands', () => {
    expect(parseLaunchArgs(['-pcodex', '-vn', 'codex', '-vn'], 'launch')).toMatchObject({ profile: 'codex', verbose: true, dryRun: true, command: 'codex', args: ['-vn'] });
    expect(parseLaunchArgs(['-vp', 'gh', '-cf.yaml', 'tool'], 'launch')).toMatchObject({ verbose: true, profile: 'gh', config: 'f.yaml', command: 'tool' });
    expect(() => parseLaunchArgs(['-vx', 'tool'], 'launch')).toThrow(/unknown option -vx/);
    expect(() => parseLaunchArgs(['-vp'], 'launch')).toThrow(/-p needs a value/);
  });

  it('accepts options on either side of `run`, and CMD after --', () => {
    expect(parseLaunchArgs(['-c', 'f', 'run', '--pristine', '-p', 'p', '--', 'cmd', '-x'], 'run')).toMatchObject({ config: 'f', pristine: true, profile: 'p', command: 'cmd', args: ['-x'] });
    expect(parseLaunchArgs(['run', 'run'], 'run')).toMatchObject({ command: 'run', args: [] });
  });
  it('rejects unknown options, missing values and a missing CMD, with the usage hint', () => {
    expect(() => parseLaunchArgs(['--nope', 'x'], 'launch')).toThrow(/unknown option --nope \(options go before CMD/);
    expect(() => parseLaunchArgs(['--profile'], 'launch')).toThrow(/--profile needs a value/);
    expect(() => parseLaunchArgs(['-v'], 'launch')).toThrow(/no command given/);
    expect(() => parseLaunchArgs(['--pristine=yes', 'x'], 'launch')).toThrow(/--pristine takes no value/);
  });
});

function memoryCtx(env: Record<string, string> = {}): CliContext & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _e, cb) {
        append(chunk.toString());
        cb();
      },
    });
  return {
    env,
    cwd: '/',
    stdin: process.stdin,
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    out: () => out,
    err: () => err,
  };
}

describe('cli dispatch', () => {
  it('a launch without a config fails with 125 and says where the config belongs', async () => {
    const ctx = memoryCtx({ HOME: '/nonexistent-home' });
    const outcome = await cli(['--verbose', 'codex'], ctx);
    expect(outcome).toEqual({ kind: 'exit', code: 125 });
    expect(ctx.err()).toMatch(/^with-secrets: no config file at \/nonexistent-home\/\.config\/with-secrets\/config\.yaml\nhint: /);
  });
  it('usage errors of the launcher are 125, as GNU env', async () => {
    const ctx = memoryCtx();
    expect(await cli(['--bogus', 'x'], ctx)).toEqual({ kind: 'exit', code: 125 });
    expect(ctx.err()).toMatch(/unknown option --bogus/);
  });
  it('`run` with --help goes to commander and prints run\'s help', async () => {
    const ctx = memoryCtx();
    expect(await cli(['run', '--help'], ctx)).toEqual({ kind: 'exit', code: 0 });
    expect(ctx.out()).toMatch(/Usage: with-secrets run \[options\] -- CMD \[ARGS\.\.\.\]/);
  });
  it('launcher options without a CMD say that the command is missing (125)', async () => {
    const ctx = memoryCtx();
    expect(await cli(['--profile', 'gh'], ctx)).toEqual({ kind: 'exit', code: 125 });
    expect(ctx.err()).toMatch(/^with-secrets: no command given\nhint: usage: with-secrets/);
  });
  it('the top-level --help describes the launch form and its options', async () => {
    const ctx = memoryCtx();
    expect(await cli(['--help'], ctx)).toEqual({ kind: 'exit', code: 0 });
    for (const want of ['Launching: with-secrets [OPTIONS] CMD [ARGS...]', '--profile', '--keep-existing', '--pristine', '--dry-run', '125', '126', '127']) {
      expect(ctx.out()).toContain(want);
    }
  });
});
