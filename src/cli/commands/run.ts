// `with-secrets run [OPTIONS] -- CMD [ARGS…]`: registered for --help; launches take the fast path in cli.ts without commander.
import type { Command } from 'commander';
import type { RegisterCommand } from './index.js';
import { EXIT } from '../exit-codes.js';
import { exitWith } from '../outcome.js';

/** Registers `run` (its help text; cli.ts routes real launches past commander). */
export const registerRun: RegisterCommand = (program, state) => {
  // The launch form has no subcommand of its own: its options are described on the top-level help.
  program.addHelpText(
    'after',
    [
      '',
      'Launching: with-secrets [OPTIONS] CMD [ARGS...]   (or: with-secrets run [OPTIONS] -- CMD [ARGS...])',
      '  -p, --profile <name>  the profile whose secrets CMD gets (default: CMD\'s basename)',
      '  -c, --config <file>   the config file',
      '  --keep-existing       keep a variable the environment already has instead of the secret',
      '  --pristine            start from a minimal environment (PATH, HOME, USER, TERM, LANG, LC_*, ...)',
      '  -v, --verbose         name the variables, their sources and collisions (never values)',
      '  -n, --dry-run         decrypt and check everything, print names and sources, start nothing',
      'Options go before CMD; everything after CMD goes to CMD untouched. Exit status: CMD\'s, or 125',
      '(with-secrets failed), 126 (CMD not executable), 127 (CMD not found).',
    ].join('\n'),
  );
  program
    .command('run')
    .description("start CMD with a profile's secrets in its environment (the explicit form of `with-secrets CMD`)")
    .usage('[options] -- CMD [ARGS...]')
    .option('-p, --profile <name>', "the profile whose secrets CMD gets (default: CMD's basename)")
    .option('-c, --config <file>', 'config file (default: $WITH_SECRETS_CONFIG, else $XDG_CONFIG_HOME/with-secrets/config.yaml)')
    .option('--keep-existing', "keep a variable the environment already has instead of replacing it with the secret")
    .option('--pristine', 'pass only PATH, HOME, USER, LOGNAME, SHELL, TERM, COLORTERM, LANG, LC_*, TZ, TMPDIR, XDG_RUNTIME_DIR, DISPLAY, WAYLAND_DISPLAY, SSH_AUTH_SOCK and the secrets')
    .option('-v, --verbose', 'say which variables come from where and which names collided (never values)')
    .option('-n, --dry-run', 'decrypt and check everything, print each variable and its source, start nothing')
    .argument('[command...]', 'the program and its arguments, after --')
    .addHelpText(
      'after',
      [
        '',
        'Exit status: the child\'s; 125 when with-secrets fails (config, identity, decryption), 126 when CMD',
        'cannot be executed, 127 when it is not found. `with-secrets CMD ARGS` is the short form: the profile',
        'is CMD\'s name, and the profile\'s `command:` runs if it has one.',
      ].join('\n'),
    )
    .allowUnknownOption()
    .action(function (this: Command) {
      // Only reached for `with-secrets run` without a command (cli.ts sends launches elsewhere).
      this.outputHelp();
      state.outcome = exitWith(EXIT.usage);
    });
};
