// `--help` is complete: every subcommand is listed with a one-line summary, and each has its own help.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { cli } from '../../src/cli/cli.js';
import type { CliContext } from '../../src/cli/context.js';
import { SUBCOMMANDS } from '../../src/cli/subcommands.js';

async function help(args: string[]): Promise<{ code: number; out: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (out += d.toString()));
  const ctx: CliContext = { env: { HOME: '/nonexistent' }, cwd: '/', stdin: new PassThrough(), stdout, stderr };
  const outcome = await cli(args, ctx);
  return { code: outcome.kind === 'exit' ? outcome.code : -1, out };
}

describe('--help', () => {
  it('lists every subcommand on one line each, the launch options and the exit codes', async () => {
    const { code, out } = await help(['--help']);
    expect(code).toBe(0);
    const commands = out.slice(out.indexOf('Commands:'), out.indexOf('Launching:'));
    for (const name of SUBCOMMANDS) expect(commands).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    // Each listed command is one line: no continuation lines without the two-space command indent.
    for (const line of commands.split('\n').slice(1)) if (line.trim()) expect(line).toMatch(/^ {2}\S/);
    for (const option of ['--profile', '--keep-existing', '--pristine', '--dry-run', '--verbose', '--config']) expect(out).toContain(option);
    for (const code of ['125', '126', '127', '9 I/O']) expect(out).toContain(code);
  });

  it.each(SUBCOMMANDS.filter((c) => c !== 'help'))('%s --help exits 0 with a usage line', async (name) => {
    const { code, out } = await help([name, '--help']);
    expect(code).toBe(0);
    expect(out).toContain(`Usage: with-secrets ${name}`);
  });

  it.each([['secret', 'set'], ['secret', 'edit'], ['recipients', 'add'], ['identity', 'generate'], ['check'], ['init']])(
    '%s %s --help lists the options every command takes (--config, --verbose)',
    async (...words) => {
      const { out } = await help([...words.filter((w): w is string => typeof w === 'string'), '--help']);
      expect(out).toMatch(/^ {2}-c, --config <file> /m);
      expect(out).toMatch(/^ {2}-v, --verbose /m);
    },
  );
});
