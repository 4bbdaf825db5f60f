// `with-secrets shell-init bash|zsh|fish`: completion plus one alias per profile, for `eval` in a shell's rc file.
import { Argument } from 'commander';
import { errnoCode, isWithSecretsError } from '../../errors.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { exitWith } from '../outcome.js';
import { formatError } from '../report.js';
import type { RegisterCommand } from './index.js';

/** Registers `shell-init`. */
export const registerShellInit: RegisterCommand = (program, state) => {
  program
    .command('shell-init')
    .description('print shell code for your rc file: an alias per profile (NAME runs `with-secrets NAME`) and completion')
    .addHelpText(
      'after',
      `
Add to your shell's startup file:
  bash (~/.bashrc)                   eval "$(with-secrets shell-init bash)"
  zsh (~/.zshrc, after compinit)     eval "$(with-secrets shell-init zsh)"
  fish (~/.config/fish/config.fish)  with-secrets shell-init fish | source
Each alias keeps the completion of the program it runs. Home Manager users get this from
programs.with-secrets instead.`,
    )
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .action(async (shellName: string) => {
      const { parseShell, readSnippet } = await import('../../shell/shells.js');
      const { renderAliases } = await import('../../shell/render-aliases.js');
      const { loadAliasProfiles } = await import('../../shell/load-profiles.js');
      const { ctx } = state;
      const shell = parseShell(shellName);
      const snippet = readSnippet(shell);
      const configFlag = program.opts<{ config?: string }>().config;
      let aliases = '';
      let code: number = EXIT.ok;
      try {
        aliases = renderAliases(shell, await loadAliasProfiles({ configFlag, env: ctx.env, cwd: ctx.cwd }));
      } catch (err) {
        // A shell must still start: print the completion without aliases, and say why on stderr,
        // except when there is no config yet (a fresh install) and none was asked for by name.
        const missing = isWithSecretsError(err, 'config-invalid') && errnoCode(err.cause) === 'ENOENT';
        if (!missing || configFlag !== undefined) {
          ctx.stderr.write(formatError(err));
          code = isWithSecretsError(err) ? exitCodeFor(err.code) : EXIT.io;
        }
      }
      ctx.stdout.write(snippet + (aliases === '' ? '' : `\n# Aliases of the with-secrets profiles.\n${aliases}`));
      state.outcome = exitWith(code);
    });
};
