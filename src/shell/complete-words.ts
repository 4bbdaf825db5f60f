// Computes completion candidates for a with-secrets command line; the shell snippets only display them.
import type { Command } from 'commander';
import { Help } from 'commander';

/** What an option's value is completed with. */
export type ValueKind = 'none' | 'files' | 'profiles' | { readonly choices: readonly string[] };

/** An option as completion sees it. */
export interface OptionSpec {
  readonly names: readonly string[];
  /** `none` for a flag. */
  readonly value: ValueKind;
}

/** A command (the program itself, a subcommand, or a subcommand of a group) as completion sees it. */
export interface CommandSpec {
  readonly name: string;
  readonly options: readonly OptionSpec[];
  readonly subcommands: readonly CommandSpec[];
  /** Choices of each positional argument, in order (empty when free). */
  readonly args: readonly (readonly string[])[];
  /** True for `run`: its first positional word (or the word after `--`) is a command with its own arguments. */
  readonly runsCommand: boolean;
}

/** A profile as completion sees it. */
export interface ProfileSpec {
  readonly name: string;
  /** Basename of the program the profile runs, when it differs from the name. */
  readonly command?: string | undefined;
}

/** The launcher's own options (parsed by the launch fast path, not by commander). */
export const LAUNCH_OPTIONS: readonly OptionSpec[] = [
  { names: ['-p', '--profile'], value: 'profiles' },
  { names: ['--dry-run'], value: 'none' },
  { names: ['--pristine'], value: 'none' },
  { names: ['--keep-existing'], value: 'none' },
];

/** Describes a commander command tree for completion: visible subcommands, options, argument choices. */
export function describeCommand(cmd: Command): CommandSpec {
  const help = new Help();
  const options: OptionSpec[] = help.visibleOptions(cmd).map((o) => ({
    names: [o.short, o.long].filter((n): n is string => n !== undefined),
    value: !o.required && !o.optional ? 'none' : o.argChoices ? { choices: o.argChoices } : /profile/i.test(o.flags) ? 'profiles' : 'files',
  }));
  const subcommands = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden).map(describeCommand);
  return {
    name: cmd.name(),
    options,
    subcommands,
    args: cmd.registeredArguments.map((a) => a.argChoices ?? []),
    runsCommand: cmd.name() === 'run',
  };
}

/** The directive telling the shell to complete the words from `index` on as `command`'s command line. */
function delegate(index: number, command: string): string[] {
  return [`:delegate ${index} ${command}`];
}

/** Values of `kind` starting with `prefix`, or the files directive. */
function valuesOf(kind: ValueKind, prefix: string, profiles: readonly ProfileSpec[]): string[] {
  if (kind === 'files' || kind === 'none') return [':files'];
  const all = kind === 'profiles' ? profiles.map((p) => p.name) : kind.choices;
  return all.filter((v) => v.startsWith(prefix));
}

/** The program that `with-secrets WORD …` runs: the profile's command basename, else the word itself. */
function programOf(word: string, profiles: readonly ProfileSpec[]): string {
  return profiles.find((p) => p.name === word)?.command ?? word;
}

/**
 * Candidates for the last of `words` (the words after `with-secrets`, the last one being completed,
 * possibly empty), one per line in the shell's protocol: candidate words, or a single directive line,
 * `:files` or `:delegate N CMD` (the words from index N on are CMD's own command line).
 */
export function completeWords(words: readonly string[], root: CommandSpec, profiles: readonly ProfileSpec[]): string[] {
  const last = words.length - 1;
  const current = words[last] ?? '';
  const rootOptions = [...root.options, ...LAUNCH_OPTIONS];
  let node = root;
  let positionals = 0;
  let afterDashes = false;
  for (let i = 0; i < last; i++) {
    const w = words[i]!;
    const atRoot = node === root;
    if (!afterDashes && w === '--') {
      if (atRoot || node.runsCommand) return delegate(i + 1, i + 1 === last ? current : programOf(words[i + 1]!, profiles));
      afterDashes = true;
      continue;
    }
    if (!afterDashes && w.startsWith('-') && w !== '-') {
      const option = (atRoot ? rootOptions : [...node.options, ...root.options]).find((o) => o.names.includes(w.split('=')[0]!));
      if (option !== undefined && option.value !== 'none' && !w.includes('=')) {
        if (i + 1 === last) return valuesOf(option.value, current, profiles);
        i++;
      }
      continue;
    }
    const sub = positionals === 0 ? node.subcommands.find((c) => c.name === w) : undefined;
    if (sub !== undefined && !afterDashes) {
      node = sub;
      continue;
    }
    if (atRoot || (node.runsCommand && positionals === 0)) return delegate(i, programOf(w, profiles));
    positionals++;
  }
  if (!afterDashes && current.startsWith('-')) {
    const options = node === root ? rootOptions : node.options;
    return options.flatMap((o) => o.names).filter((n) => n.startsWith(current));
  }
  if (node === root) {
    const names = [...root.subcommands.map((c) => c.name), ...profiles.map((p) => p.name)];
    return [...new Set(names)].filter((n) => n.startsWith(current));
  }
  if (node.subcommands.length > 0 && positionals === 0) return node.subcommands.map((c) => c.name).filter((n) => n.startsWith(current));
  if (node.runsCommand && positionals === 0) return delegate(last, current);
  const choices = node.args[positionals];
  if (choices !== undefined && choices.length > 0) return choices.filter((c) => c.startsWith(current));
  return [':files'];
}
