// `with-secrets secret set|rm|list|edit`: manage the values of a SOPS file without sops; every write is atomic and locked.
import { WithSecretsError } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import { exitWith } from '../outcome.js';
import type { RegisterCommand } from './index.js';
import {
  type FileFlags,
  fileOptions,
  identitiesFor,
  indentFor,
  lockTimeoutMsOf,
  note,
  prepareFileCommand,
  readSecretValue,
  secretsFileOf,
} from './write-common.js';

interface SecretFlags extends FileFlags {
  document?: string;
}

/** `--document N` of a multi-document YAML file (0 is the first). */
function documentOf(flags: SecretFlags): { doc?: number } {
  if (flags.document === undefined) return {};
  if (!/^[0-9]{1,6}$/.test(flags.document)) throw new WithSecretsError('usage', '--document takes a document number (0 is the first)');
  return { doc: Number(flags.document) };
}

/** Registers `secret` and its subcommands. */
export const registerSecret: RegisterCommand = (program, state) => {
  const secret = program
    .command('secret')
    .description('add, change, remove and list the values of the SOPS file (no sops needed; files stay ordinary sops files)');

  fileOptions(
    secret
      .command('set')
      .summary('set NAME to a value from stdin or a hidden prompt (never from the command line)')
      .description(
        'Set NAME to a value read from stdin (one trailing newline dropped; empty is an error), or typed at a hidden ' +
          'prompt when stdin is a terminal; never from the command line. NAME is dotted (openai.api_key) or sops syntax ' +
          '(\'["a"]["b"]\'). A new value is a string; an existing value keeps its type. A missing file is created by the ' +
          '.sops.yaml creation rule that matches it, else encrypted to the recipients of the main secrets file. A name the file\'s partial-encryption rule would leave in plain text is ' +
          'refused. Writers wait for each other (up to $WITH_SECRETS_LOCK_TIMEOUT seconds, default 30).',
      )
      .argument('<name>', 'the key path')
      .option('--allow-unencrypted', 'store the value even where the file\'s partial-encryption rule leaves it unencrypted')
      .option('--document <n>', 'the document of a multi-document YAML file (0, the first, by default)'),
  ).action(async (name: string, flags: SecretFlags & { allowUnencrypted?: boolean }) => {
    const { ctx, file, format, config, verbose } = await prepareFileCommand(program, state, flags);
    const { parseKeyPath, showKeyPath } = await import('../../sops/key-path.js');
    const { checkPathForFormat, setSecret } = await import('../../sops/secret-ops.js');
    const path = parseKeyPath(name);
    checkPathForFormat(format, path);
    const value = await readSecretValue(ctx, showKeyPath(path));
    const sopsConfig = ctx.env['SOPS_CONFIG'];
    const outcome = await setSecret(file, path, value, {
      format,
      ...(await indentFor(ctx, file, format)),
      identities: await identitiesFor(ctx, config, verbose),
      lockTimeoutMs: lockTimeoutMsOf(ctx),
      create: {
        cwd: ctx.cwd,
        ...(sopsConfig === undefined || sopsConfig === '' ? {} : { sopsConfig }),
        // Without a matching .sops.yaml rule, a new file takes the main secrets file's recipients.
        recipientsFrom: secretsFileOf(ctx, undefined, config),
      },
      allowUnencrypted: Boolean(flags.allowUnencrypted),
      ...documentOf(flags),
    });
    for (const w of outcome.warnings) note(ctx, `warning: ${w}`);
    if (outcome.unchanged) note(ctx, `${file}: ${showKeyPath(path)} already holds this value; nothing changed`);
    else note(ctx, `${outcome.fileCreated ? 'created' : 'updated'} ${file}: ${outcome.created ? 'added' : 'changed'} ${showKeyPath(path)}`);
    state.outcome = exitWith(EXIT.ok);
  });

  fileOptions(
    secret
      .command('rm')
      .alias('remove')
      .description('remove NAME (a value, or a whole map or list) from the SOPS file')
      .argument('<name>', 'the key path')
      .option('--document <n>', 'the document of a multi-document YAML file (0, the first, by default)'),
  ).action(
    async (name: string, flags: SecretFlags) => {
      const { ctx, file, format, config, verbose } = await prepareFileCommand(program, state, flags);
      const { parseKeyPath, showKeyPath } = await import('../../sops/key-path.js');
      const { removeSecret } = await import('../../sops/secret-ops.js');
      const path = parseKeyPath(name);
      await removeSecret(file, path, {
        format,
        ...(await indentFor(ctx, file, format)),
        identities: await identitiesFor(ctx, config, verbose),
        lockTimeoutMs: lockTimeoutMsOf(ctx),
        ...documentOf(flags),
      });
      note(ctx, `updated ${file}: removed ${showKeyPath(path)}`);
      state.outcome = exitWith(EXIT.ok);
    },
  );

  fileOptions(
    secret
      .command('list')
      .alias('ls')
      .description('list the names in the SOPS file (never values), each with the profiles that use it; needs no key')
      .option('--json', 'print JSON: [{"name", "document", "profiles": [{"profile", "variable"}]}]'),
  ).action(async (flags: SecretFlags & { json?: boolean }) => {
    const { ctx, file, format, config } = await prepareFileCommand(program, state, flags);
    const { listSecretNames } = await import('../../sops/secret-ops.js');
    const { usersOf } = await import('./secret-users.js');
    const docs = await listSecretNames(file, format);
    const rows = await usersOf(docs, file, config);
    if (flags.json) {
      ctx.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    } else {
      const width = Math.min(48, Math.max(0, ...rows.map((r) => r.display.length)));
      for (const r of rows) {
        const users = r.profiles.length === 0 ? '-' : r.profiles.map((p) => `${p.profile} (${p.variable})`).join(', ');
        ctx.stdout.write(`${r.display.padEnd(width)}  ${users}\n`);
      }
      if (rows.length === 0) note(ctx, `${file} holds no values yet; add one with \`with-secrets secret set NAME\``);
    }
    state.outcome = exitWith(EXIT.ok);
  });

  fileOptions(
    secret
      .command('edit')
      .summary('edit the decrypted file in $SOPS_EDITOR / $EDITOR, as `sops edit` does')
      .description(
        'Open the decrypted SOPS file in $SOPS_EDITOR, else $EDITOR (split like a shell would, without one), else vim/nano/vi, ' +
          'as `sops edit` does, and encrypt it again on save (unchanged values keep their ciphertext). The plaintext lives ' +
          'only in a 0600 file in a 0700 directory under $XDG_RUNTIME_DIR (refused when that is unset) and is removed on every ' +
          'exit, SIGINT/SIGTERM/SIGHUP included. Other writers wait for the lock until the editor closes.',
      ),
  ).action(async (flags: SecretFlags) => {
    const prepared = await prepareFileCommand(program, state, flags);
    const { runEdit } = await import('./secret-edit.js');
    const { indent } = await indentFor(prepared.ctx, prepared.file, prepared.format);
    state.outcome = exitWith(
      await runEdit(prepared.ctx, prepared.file, prepared.format, await identitiesFor(prepared.ctx, prepared.config, prepared.verbose), lockTimeoutMsOf(prepared.ctx), indent),
    );
  });
};
