// The completion engine: what each position of a with-secrets command line completes to.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { completeWords, describeCommand } from '../../src/shell/complete-words.js';


const root = (() => {
  const p = new Command('with-secrets').option('-c, --config <file>', 'config').option('-v, --verbose', 'verbose');
  p.command('check').option('--json').option('--no-decrypt');
  const si = p.command('shell-init');
  si.argument('<shell>');
  si.registeredArguments[0]!.choices(['bash', 'zsh', 'fish']);
  p.command('run').option('-p, --profile <name>');
  const secret = p.command('secret');
  secret.command('set').option('--file <file>');
  secret.command('list');
  p.command('hidden', { hidden: true });
  return describeCommand(p);
})();

const profiles = [{ name: 'codex' }, { name: 'codex-work', command: 'codex' }, { name: 'gh' }];
const complete = (...words: string[]) => completeWords(words, root, profiles);

describe('completeWords', () => {
  it('offers subcommands and profiles first, hidden commands never', () => {
    expect(complete('')).toEqual(['check', 'shell-init', 'run', 'secret', 'codex', 'codex-work', 'gh']);
    expect(complete('co')).toEqual(['codex', 'codex-work']);
    expect(complete('hid')).toEqual([]);
  });

  it('offers the global and launcher options', () => {
    expect(complete('--')).toEqual(['--config', '--verbose', '--help', '--profile', '--dry-run', '--pristine', '--keep-existing']);
    expect(complete('--p')).toEqual(['--profile', '--pristine']);
  });

  it('completes option values: files for --config, profiles for --profile', () => {
    expect(complete('--config', '')).toEqual([':files']);
    expect(complete('--profile', 'g')).toEqual(['gh']);
    expect(complete('-c', 'x.yaml', '')).toContain('check');
  });

  it('completes subcommand options and argument choices', () => {
    expect(complete('check', '--')).toEqual(['--json', '--no-decrypt', '--help']);
    expect(complete('shell-init', '')).toEqual(['bash', 'zsh', 'fish']);
    expect(complete('shell-init', 'z')).toEqual(['zsh']);
    expect(complete('secret', '')).toEqual(['set', 'list']);
    expect(complete('secret', 'set', '--file', '')).toEqual([':files']);
  });

  it('hands a profile command line to the program, under its real name', () => {
    expect(complete('codex', '')).toEqual([':delegate 0 codex']);
    expect(complete('codex-work', '--fl')).toEqual([':delegate 0 codex']);
    expect(complete('--profile', 'gh', 'mytool', 'a', '')).toEqual([':delegate 2 mytool']);
    expect(complete('-v', 'codex', 'x', '')).toEqual([':delegate 1 codex']);
  });

  it('hands `run -- CMD …` and `-- CMD …` to CMD', () => {
    expect(complete('run', '--', 'gh', '')).toEqual([':delegate 2 gh']);
    expect(complete('run', '--profile', 'codex', '--', 'codex', 'e')).toEqual([':delegate 4 codex']);
    expect(complete('run', '--', 'co')).toEqual([':delegate 2 co']);
    expect(complete('--', 'check', '')).toEqual([':delegate 1 check']);
  });
});
