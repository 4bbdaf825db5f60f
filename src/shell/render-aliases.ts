// Renders the shell aliases of the configured profiles (the text the Home Manager module writes too).
import { basename } from 'node:path';
import type { Shell } from './shells.js';

/** What an alias needs to know of a profile. */
export interface AliasProfile {
  readonly name: string;
  /** The profile's `command:`, when set; its basename picks the completion the alias keeps. */
  readonly command?: string | undefined;
  /** False when the profile opted out of an alias. */
  readonly alias?: boolean | undefined;
}

/** Profile names that are safe as alias and function names in every shell, unquoted. */
const ALIAS_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;

/**
 * Words a shell parses itself, so an alias or function of that name breaks the shell's own syntax
 * (bash and zsh expand an alias named `if`; fish refuses functions named `time` or `test`).
 * Hm-module/lib.nix keeps the same list.
 */
export const SHELL_RESERVED_WORDS: ReadonlySet<string> = new Set([
  'if', 'then', 'else', 'elif', 'fi', 'case', 'esac', 'for', 'select', 'while', 'until', 'do', 'done', 'in',
  'function', 'time', 'coproc', 'foreach', 'end', 'repeat', 'nocorrect', 'declare', 'export', 'float', 'integer',
  'local', 'readonly', 'typeset', 'test', 'command', 'exec', 'eval', 'string', 'set', 'status', 'read', 'argparse',
  'builtin', 'not', 'and', 'or', 'begin', 'switch', 'return', 'break', 'continue',
]);

/** True when `name` can be an alias in bash, zsh and fish. */
export function isAliasName(name: string): boolean {
  return ALIAS_NAME.test(name) && !SHELL_RESERVED_WORDS.has(name);
}

/** The program whose completion an alias keeps: the basename of `command:`, else the profile name. */
export function completionCommandOf(profile: AliasProfile): string {
  return profile.command === undefined ? profile.name : basename(profile.command);
}

/**
 * One alias per profile (unless `alias: false`) that runs `with-secrets NAME`, plus what keeps the
 * program's own completion for it: nothing when the alias is named like the program (bash and fish
 * complete by the typed name, zsh expands the alias and with-secrets' completion hands the words on),
 * else a delegation to the program's completion. Profiles whose name is no valid alias name, or a word
 * a shell reserves (see {@link SHELL_RESERVED_WORDS}), are skipped.
 */
export function renderAliases(shell: Shell, profiles: readonly AliasProfile[]): string {
  const lines: string[] = [];
  for (const p of profiles) {
    if (p.alias === false || !isAliasName(p.name)) continue;
    const target = completionCommandOf(p);
    if (shell === 'fish') {
      const wraps = target !== p.name && isAliasName(target) ? ` --wraps ${target}` : '';
      lines.push(`function ${p.name}${wraps} --description 'run ${p.name} with its secrets (with-secrets)'`);
      lines.push(`    with-secrets ${p.name} $argv`);
      lines.push('end');
    } else {
      lines.push(`alias ${p.name}='with-secrets ${p.name}'`);
      if (shell === 'bash' && target !== p.name) lines.push(`complete -o default -F __with_secrets_complete_alias ${p.name}`);
    }
  }
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}
