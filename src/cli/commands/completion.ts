// `with-secrets completion bash|zsh|fish`: the completion script; `--complete -- WORDS…` answers the scripts.
import { Option } from 'commander';
import { WithSecretsError } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import { exitWith } from '../outcome.js';
import type { RegisterCommand } from './index.js';

/**
 * The value of `-c/--config` among completed words, so completion reads the config the command line
 * names. The words come as typed: a leading `~/` is the shell's to expand once the line runs, so it is
 * expanded here with `home`.
 */
function configFromWords(words: readonly string[], home: string | undefined): string | undefined {
  const tilde = (p: string): string => (home !== undefined && home !== '' && (p === '~' || p.startsWith('~/')) ? home + p.slice(1) : p);
  for (let i = 0; i < words.length - 1; i++) {
    const w = words[i]!;
    if ((w === '-c' || w === '--config') && i + 1 < words.length - 1) return tilde(words[i + 1]!);
    if (w.startsWith('--config=')) return tilde(w.slice('--config='.length));
  }
  return undefined;
}

/** Registers `completion`. */
export const registerCompletion: RegisterCommand = (program, state) => {
  program
    .command('completion')
    .description('print the completion script for bash, zsh or fish')
    .addHelpText(
      'after',
      `
It completes subcommands, options, profile names, and after a profile the program's own arguments
through that program's completion. Install it, for example:
  bash  with-secrets completion bash > ~/.local/share/bash-completion/completions/with-secrets
  zsh   with-secrets completion zsh > "\${fpath[1]}/_with-secrets"
  fish  with-secrets completion fish > ~/.config/fish/completions/with-secrets.fish
\`with-secrets shell-init\` prints it too, with the aliases.`,
    )
    .argument('[shell]', 'bash, zsh or fish')
    .argument('[words...]', 'with --complete (used by the completion scripts): the words after `with-secrets`')
    .addOption(new Option('--complete', 'print the candidates for WORDS, one per line (used by the completion scripts)').hideHelp())
    .action(async (shellName: string | undefined, words: string[], opts: { complete?: boolean }, cmd) => {
      const { ctx } = state;
      if (opts.complete === true) {
        // `completion --complete -- WORDS`: commander puts the first word in [shell] when it is a shell name
        // (and rejects other values there), so take the words from the raw operands instead.
        const all = cmd.args as string[];
        const { completeWords, describeCommand } = await import('../../shell/complete-words.js');
        const { loadAliasProfiles, programBasename } = await import('../../shell/load-profiles.js');
        const profiles = await loadAliasProfiles({ configFlag: configFromWords(all, ctx.env['HOME']) ?? program.opts<{ config?: string }>().config, env: ctx.env, cwd: ctx.cwd })
          .then((ps) => ps.map((p) => ({ name: p.name, command: programBasename(p) })))
          .catch(() => []);
        const lines = completeWords(all.length === 0 ? [''] : all, describeCommand(program), profiles);
        ctx.stdout.write(lines.length === 0 ? '' : lines.join('\n') + '\n');
        state.outcome = exitWith(EXIT.ok);
        return;
      }
      if (shellName === undefined || words.length > 0) {
        throw new WithSecretsError('usage', 'completion takes one shell name', { hint: 'e.g. `with-secrets completion bash`' });
      }
      const { parseShell, readSnippet } = await import('../../shell/shells.js');
      const shell = parseShell(shellName);
      let text = readSnippet(shell);
      if (shell === 'zsh') {
        // Usable as an autoloaded `_with-secrets` in $fpath as well as sourced.
        text =
          '#compdef with-secrets\n' +
          text +
          '\n# Autoloaded from $fpath as _with-secrets: complete the current line now.\n' +
          'if [[ ${funcstack[1]-} == _with-secrets ]]; then __with_secrets_complete "$@"; fi\n';
      }
      ctx.stdout.write(text);
      state.outcome = exitWith(EXIT.ok);
    });
};
