// routeArgs: the one decision that picks both the bin's bundle (launch-only or whole CLI) and cli.ts's path.
import { describe, expect, it } from 'vitest';
import { routeArgs } from '../../src/cli/route.js';

describe('routeArgs', () => {
  it.each([
    [['codex'], { kind: 'launch', at: 0, mode: 'launch' }],
    [['--config', 'c.yaml', '--profile', 'gh', 'gh', 'pr'], { kind: 'launch', at: 4, mode: 'launch' }],
    [['-p', 'run', 'tool'], { kind: 'launch', at: 2, mode: 'launch' }],
    [['--', 'check'], { kind: 'launch', at: 1, mode: 'launch' }],
    [['run', '--', 'codex'], { kind: 'launch', at: 0, mode: 'run' }],
    [['run', '-p', 'gh', 'gh'], { kind: 'launch', at: 0, mode: 'run' }],
    // Launcher-only options without CMD: the launcher reports what is missing.
    [['--profile', 'gh'], { kind: 'launch', at: -1, mode: 'launch' }],
    [['--dry-run'], { kind: 'launch', at: -1, mode: 'launch' }],
    // Short options written together, as commander takes them: a trailing -p or -c takes the next word.
    [['-pgh', 'tool'], { kind: 'launch', at: 1, mode: 'launch' }],
    [['-vp', 'list', 'tool'], { kind: 'launch', at: 2, mode: 'launch' }],
    [['-vn', 'codex'], { kind: 'launch', at: 1, mode: 'launch' }],
    [['-vn'], { kind: 'launch', at: -1, mode: 'launch' }],
    // `run` with options but no CMD: the launcher reports the missing command (125, never commander's 2).
    [['run', '--profile', 'codex'], { kind: 'launch', at: 0, mode: 'run' }],
  ])('%j is a launch', (args, route) => {
    expect(routeArgs(args)).toEqual(route);
  });

  it.each([[[]], [['--help']], [['-V']], [['check']], [['-c', 'x', 'decrypt', 'f']], [['run']], [['run', '--help']], [['run', '-p', 'gh', '-h']], [['--help', 'codex']], [['--']], [['help', 'run']], [['-vc', 'x', 'check']]])(
    '%j goes to commander',
    (args) => {
      expect(routeArgs(args)).toEqual({ kind: 'program' });
    },
  );
});
