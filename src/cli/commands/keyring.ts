// `with-secrets keyring set|rm NAME`: tokens in the OS keyring for `{keyring: NAME}` references (no `get`: never print a secret).
import { isUtf8 } from 'node:buffer';
import { WithSecretsError } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import { exitWith } from '../outcome.js';
import type { RegisterCommand } from './index.js';

/** Registers `keyring` and its subcommands. */
export const registerKeyring: RegisterCommand = (program, state) => {
  const keyring = program
    .command('keyring')
    .summary('manage tokens in the OS keyring for {keyring: NAME} references')
    .description(
      'manage tokens in the OS keyring (service with-secrets, account NAME), used by {keyring: NAME} in a profile;\n' +
        'interoperable with: secret-tool lookup service with-secrets account NAME',
    );

  keyring
    .command('set')
    .description('store a token under NAME: from stdin when it is not a terminal (one trailing newline dropped), else a prompt without echo; replaces an earlier value')
    .argument('<name>', 'the keyring name')
    .action(async (name: string) => {
      const { ctx } = state;
      const { assertKeyringName } = await import('../../keyring/names.js');
      assertKeyringName(name, 'keyring name');
      let value: string;
      if (ctx.stdin.isTTY) {
        const { promptHidden } = await import('../../age/tty-prompt.js');
        value = await promptHidden(`Value for ${name}: `);
      } else {
        const { readStdin } = await import('./identity.js');
        const bytes = await readStdin(ctx);
        // A launch puts the value into an environment variable: it must be text that survives the trip.
        if (!isUtf8(bytes)) throw new WithSecretsError('usage', `keyring ${name}: the value is not UTF-8 text, refused`, { hint: 'store text; for binary data use a file reference' });
        value = bytes.toString('utf8').replace(/\r?\n$/, '');
      }
      if (value === '') throw new WithSecretsError('usage', `keyring ${name}: empty value refused`, { hint: 'pipe the value in, or type it at the prompt' });
      if (value.includes('\0')) throw new WithSecretsError('usage', `keyring ${name}: the value contains a NUL byte, which no environment variable can hold; refused`);
      const { setKeyringSecret } = await import('../../keyring/tokens.js');
      await setKeyringSecret(name, value, { env: ctx.env });
      ctx.stderr.write(`with-secrets: stored ${name} in the OS keyring (use it as {keyring: ${yamlScalar(name)}})\n`);
      state.outcome = exitWith(EXIT.ok);
    });

  keyring
    .command('rm')
    .description('remove the token NAME from the OS keyring')
    .argument('<name>', 'the keyring name')
    .action(async (name: string) => {
      const { ctx } = state;
      const { removeKeyringSecret } = await import('../../keyring/tokens.js');
      await removeKeyringSecret(name, { env: ctx.env });
      ctx.stderr.write(`with-secrets: removed ${name} from the OS keyring\n`);
      state.outcome = exitWith(EXIT.ok);
    });
};

/** `name` as a YAML flow scalar a user can paste into the config: plain when YAML reads it back as is, else quoted. */
export function yamlScalar(name: string): string {
  return /^[A-Za-z0-9_][A-Za-z0-9_./+-]*$/.test(name) ? name : JSON.stringify(name);
}
