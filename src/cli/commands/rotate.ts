// `with-secrets rotate`: a new data key for the SOPS file and every value encrypted anew (as `sops rotate`).
import { EXIT } from '../exit-codes.js';
import { exitWith } from '../outcome.js';
import type { RegisterCommand } from './index.js';
import { type FileFlags, fileOptions, identitiesFor, indentFor, lockTimeoutMsOf, note, prepareFileCommand } from './write-common.js';

/** Registers `rotate`. */
export const registerRotate: RegisterCommand = (program, state) => {
  fileOptions(
    program
      .command('rotate')
      .description('make a new data key for the SOPS file, wrap it for the same recipients and encrypt every value again (as `sops rotate`)'),
  ).action(async (flags: FileFlags) => {
      const { ctx, config, file, format, verbose } = await prepareFileCommand(program, state, flags);
      const { rotateFile } = await import('../../sops/secret-ops.js');
      await rotateFile(file, { format, ...(await indentFor(ctx, file, format)), identities: await identitiesFor(ctx, config, verbose), lockTimeoutMs: lockTimeoutMsOf(ctx) });
      note(ctx, `updated ${file}: new data key, every value encrypted again`);
      state.outcome = exitWith(EXIT.ok);
    });
};
