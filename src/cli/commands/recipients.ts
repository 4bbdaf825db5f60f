// `with-secrets recipients list|add|rm`: who can open the SOPS file; changes re-wrap the data key (as `sops updatekeys`).
import { WithSecretsError } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import { exitWith } from '../outcome.js';
import type { RegisterCommand } from './index.js';
import { type FileFlags, fileOptions, identitiesFor, indentFor, lockTimeoutMsOf, note, prepareFileCommand } from './write-common.js';

/** Validates a recipient string before any file is touched (the message never quotes more than the kind). */
async function checkRecipient(recipient: string): Promise<string> {
  const { parseRecipient } = await import('../../age/recipient.js');
  return parseRecipient(recipient).text;
}

/** Registers `recipients` and its subcommands. */
export const registerRecipients: RegisterCommand = (program, state) => {
  const recipients = program
    .command('recipients')
    .description('list, add or remove the age recipients of the SOPS file (X25519 age1…, post-quantum age1pq1…, ssh-ed25519, ssh-rsa)');

  fileOptions(recipients.command('list').alias('ls').description('print the recipients, one per line (grouped when the file has Shamir key groups); needs no key')).action(
    async (flags: FileFlags) => {
      const { ctx, file, format } = await prepareFileCommand(program, state, flags);
      const { readStructure } = await import('../../sops/secret-ops.js');
      const { metadata } = await readStructure(file, format);
      const multi = metadata.keyGroups.length > 1;
      if (multi) ctx.stdout.write(`# ${metadata.keyGroups.length} key groups, ${metadata.shamirThreshold || metadata.keyGroups.length} needed\n`);
      metadata.keyGroups.forEach((g, i) => {
        if (multi) ctx.stdout.write(`# group ${i + 1}\n`);
        for (const k of g.age) ctx.stdout.write(`${k.recipient}\n`);
        for (const o of g.others) {
          const n = o.value.type === 'list' ? o.value.items.length : 1;
          if (n > 0) ctx.stdout.write(`# plus ${n} ${o.key} key${n === 1 ? '' : 's'} (kept as they are)\n`);
        }
      });
      state.outcome = exitWith(EXIT.ok);
    },
  );

  fileOptions(
    recipients
      .command('add')
      .description('add a recipient and re-wrap the data key for it (the values are not re-encrypted)')
      .argument('<recipient>', 'age1…, age1pq1…, or an SSH public key line (quote it)')
      .option('--group <n>', 'the key group to add to, 1 is the first (files with Shamir key groups)', '1'),
  ).action(async (recipient: string, flags: FileFlags & { group: string }) => {
    const { ctx, file, format, config, verbose } = await prepareFileCommand(program, state, flags);
    const { addFileRecipient } = await import('../../sops/secret-ops.js');
    if (!/^[1-9][0-9]{0,2}$/.test(flags.group)) throw new WithSecretsError('usage', '--group takes a group number (1 is the first)');
    const text = await checkRecipient(recipient);
    const added = await addFileRecipient(file, text, {
      format,
      ...(await indentFor(ctx, file, format)),
      identities: await identitiesFor(ctx, config, verbose),
      lockTimeoutMs: lockTimeoutMsOf(ctx),
      group: Number(flags.group) - 1,
    });
    note(ctx, added ? `updated ${file}: added ${text}` : `${text} is already a recipient of ${file}; nothing changed`);
    state.outcome = exitWith(EXIT.ok);
  });

  fileOptions(
    recipients
      .command('rm')
      .alias('remove')
      .summary('remove a recipient (and rotate the data key, unless --no-rotate)')
      .description(
        'Remove a recipient from every key group. The data key is rotated too and every value re-encrypted, since the ' +
          'removed recipient may have kept the old key; --no-rotate only re-wraps it (the removed key then still opens the ' +
          'new file). Copies of the old file (backups, git history) open with the removed key either way.',
      )
      .argument('<recipient>', 'the recipient as `recipients list` prints it')
      .option('--no-rotate', 'keep the data key (only re-wrap it)'),
  ).action(async (recipient: string, flags: FileFlags & { rotate: boolean }) => {
    const { ctx, file, format, config, verbose } = await prepareFileCommand(program, state, flags);
    const { removeFileRecipient } = await import('../../sops/secret-ops.js');
    await removeFileRecipient(file, recipient, {
      format,
      ...(await indentFor(ctx, file, format)),
      identities: await identitiesFor(ctx, config, verbose),
      lockTimeoutMs: lockTimeoutMsOf(ctx),
      rotate: flags.rotate,
    });
    note(ctx, `updated ${file}: removed ${recipient}${flags.rotate ? '; data key rotated' : ' (data key kept: --no-rotate)'}`);
    if (flags.rotate) note(ctx, 'copies of the old file (backups, git history) still open with the removed key; rotate the secrets themselves where that matters');
    state.outcome = exitWith(EXIT.ok);
  });
};
