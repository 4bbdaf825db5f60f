// `with-secrets rotate`: a new data key for the SOPS file and every value encrypted anew (as `sops rotate`).
import { Option } from 'commander';
import type { StoreFormat } from '../../sops/tree.js';
import { EXIT } from '../exit-codes.js';
import { exitWith } from '../outcome.js';
import type { RegisterCommand } from './index.js';
import { formatOption, identitiesFor, indentFor, loadOptionalConfig, lockTimeoutMsOf, note, secretsFileOf } from './write-common.js';

const FORMATS = ['yaml', 'json', 'dotenv', 'ini', 'binary'] as const;

/** Registers `rotate`. */
export const registerRotate: RegisterCommand = (program, state) => {
  program
    .command('rotate')
    .description('make a new data key for the SOPS file, wrap it for the same recipients and encrypt every value again (as `sops rotate`)')
    .option('-f, --file <file>', 'the SOPS file (default: the config\'s sopsFile, else $XDG_CONFIG_HOME/with-secrets/secrets.yaml)')
    .addOption(new Option('--input-type <type>', 'the file format (default: from the extension)').choices(FORMATS))
    .action(async (flags: { file?: string; inputType?: StoreFormat }) => {
      const { ctx } = state;
      const globals = program.opts<{ config?: string; verbose?: boolean }>();
      const config = await loadOptionalConfig(ctx, globals.config);
      const file = secretsFileOf(ctx, flags.file, config);
      const format = await formatOption(flags.inputType, file);
      const { rotateFile } = await import('../../sops/secret-ops.js');
      await rotateFile(file, { format, ...(await indentFor(ctx, file, format)), identities: await identitiesFor(ctx, config, Boolean(globals.verbose)), lockTimeoutMs: lockTimeoutMsOf(ctx) });
      note(ctx, `updated ${file}: new data key, every value encrypted again`);
      state.outcome = exitWith(EXIT.ok);
    });
};
