// `with-secrets identity generate|import|list|rm`: age identities in a key file or the OS keyring.
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { Option } from 'commander';
import { WithSecretsError } from '../../errors.js';
import { homeDirOf, type CliContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { exitWith } from '../outcome.js';
import type { RegisterCommand } from './index.js';

function uidOf(): number | undefined {
  try {
    const uid = userInfo().uid;
    return uid >= 0 ? uid : undefined;
  } catch {
    return undefined;
  }
}

/** Reads all of stdin (bounded), for `identity import -` and `keyring set`. */
export async function readStdin(ctx: CliContext, maxBytes = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.stdin) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > maxBytes) throw new WithSecretsError('usage', `standard input is larger than ${maxBytes} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

interface GenerateFlags {
  keyring?: string;
  file?: string;
  postQuantum?: boolean;
}

interface ImportFlags {
  name?: string;
}

/** Registers `identity` and its subcommands. */
export const registerIdentity: RegisterCommand = (program, state) => {
  const identity = program
    .command('identity')
    .description('manage age identities: a key file where sops reads it, or the OS keyring (never prints key material)');

  identity
    .command('generate')
    .description(
      'make a new age identity and print its recipient (public key) on stdout\n' +
        "default: appended to sops' key file $XDG_CONFIG_HOME/sops/age/keys.txt (created 0600 if missing), which sops and sops-nix read too;\n" +
        'an existing key file keeps every key it has (the new key is appended, never overwritten)',
    )
    .addOption(new Option('--keyring <name>', 'store it in the OS keyring under NAME instead (use it with `identities: [{keyring: NAME}]`)').conflicts('file'))
    .addOption(new Option('--file <path>', 'append it to this key file instead (created 0600 if missing)').conflicts('keyring'))
    .option('--post-quantum', 'a post-quantum hybrid key (AGE-SECRET-KEY-PQ-1…, recipient age1pq1…; needs age ≥ 1.3 / sops ≥ 3.11 to read)')
    .action(async (flags: GenerateFlags) => {
      const { ctx } = state;
      const { generateNewIdentity, appendToKeyFile } = await import('../../age/new-identity.js');
      const id = await generateNewIdentity({ postQuantum: Boolean(flags.postQuantum) });
      if (flags.keyring !== undefined) {
        const { storeKeyringIdentity } = await import('../../keyring/identity-changes.js');
        await storeKeyringIdentity(flags.keyring, id.text, [id.recipient], { env: ctx.env, homeDir: homeDirOf(ctx) });
        ctx.stderr.write(`with-secrets: stored a new identity in the OS keyring as ${flags.keyring} (service with-secrets-identity)\n`);
        const { yamlScalar } = await import('./keyring.js');
        ctx.stderr.write(`with-secrets: use it with  identities: [{keyring: ${yamlScalar(flags.keyring)}}]  in your config\n`);
      } else {
        const { defaultKeyFilePath } = await import('../../age/sources.js');
        const path = flags.file !== undefined ? resolve(ctx.cwd, flags.file) : defaultKeyFilePath(ctx.env, homeDirOf(ctx), process.platform);
        const { how, warning } = await appendToKeyFile(path, id.text, uidOf());
        ctx.stderr.write(`with-secrets: ${how === 'created' ? 'wrote' : 'appended'} a new identity to ${path}\n`);
        if (warning !== undefined) ctx.stderr.write(`with-secrets: warning: ${warning}\n`);
      }
      ctx.stdout.write(`${id.recipient}\n`);
      state.outcome = exitWith(EXIT.ok);
    });

  identity
    .command('import')
    .description(
      'store an existing identity in the OS keyring: an age key file (several keys allowed), a passphrase-protected\n' +
        'age identity file, or an unencrypted OpenSSH ed25519/RSA key; read from FILE, or stdin with - (or when piped)',
    )
    .argument('[file]', 'the key file, or - for stdin')
    .option('--name <name>', 'the keyring name (default: default)')
    .action(async (file: string | undefined, flags: ImportFlags) => {
      const { ctx } = state;
      const name = flags.name ?? 'default';
      const { assertKeyringName } = await import('../../keyring/names.js');
      assertKeyringName(name, 'identity name');
      let bytes: Buffer;
      let label: string;
      if (file === undefined || file === '-') {
        if (file === undefined && ctx.stdin.isTTY) {
          throw new WithSecretsError('usage', 'identity import needs a key file, or the key on stdin', { hint: 'with-secrets identity import ~/key.txt   or   … | with-secrets identity import -' });
        }
        bytes = await readStdin(ctx);
        label = 'standard input';
      } else {
        const { readKeyFile } = await import('../../age/file-safety.js');
        const path = resolve(ctx.cwd, file);
        const read = await readKeyFile(path, uidOf());
        if (read === undefined) throw new WithSecretsError('io', `${path}: file not found`);
        if (read.warning !== undefined) ctx.stderr.write(`with-secrets: warning: ${read.warning}\n`);
        bytes = read.bytes;
        label = path;
      }
      const { parseIdentityContent } = await import('../../age/identity-content.js');
      const { promptHidden } = await import('../../age/tty-prompt.js');
      const ids = await parseIdentityContent(bytes, label, {
        interactive: true,
        askPassphrase: (p) => promptHidden(p),
        notes: (m) => ctx.stderr.write(`with-secrets: ${m}\n`),
      });
      if (ids.length === 0) throw new WithSecretsError('identity-invalid', `${label}: holds no identity`);
      const recipients = await Promise.all(ids.map((i) => i.recipient()));
      const { storeKeyringIdentity } = await import('../../keyring/identity-changes.js');
      // Stored as given (a passphrase-protected file stays protected), so it reads back exactly as the file did.
      await storeKeyringIdentity(name, bytes.toString('utf8'), recipients, { env: ctx.env, homeDir: homeDirOf(ctx) });
      ctx.stderr.write(`with-secrets: stored ${ids.length === 1 ? 'the identity' : `${ids.length} identities`} in the OS keyring as ${name}\n`);
      if (file !== undefined && file !== '-') ctx.stderr.write(`with-secrets: the key is still in ${label}; delete that file once you have checked the keyring copy works\n`);
      for (const r of recipients) ctx.stdout.write(`${r}\n`);
      state.outcome = exitWith(EXIT.ok);
    });

  identity
    .command('list')
    .description('list the identities stored in the OS keyring: names and recipients, from a non-secret index file')
    .action(async () => {
      const { ctx } = state;
      const { readIdentityIndex, identityIndexPath } = await import('../../keyring/identity-store.js');
      const entries = await readIdentityIndex(ctx.env, homeDirOf(ctx));
      if (entries.length === 0) {
        ctx.stderr.write(`with-secrets: no identities in the OS keyring index (${identityIndexPath(ctx.env, homeDirOf(ctx))})\n`);
      }
      for (const e of entries) ctx.stdout.write(`${e.name}\t${e.recipients.join(' ')}\n`);
      state.outcome = exitWith(EXIT.ok);
    });

  identity
    .command('rm')
    .description('remove an identity from the OS keyring (and the index); files that only it opens can no longer be opened')
    .argument('<name>', 'the keyring name')
    .action(async (name: string) => {
      const { ctx } = state;
      const { removeKeyringIdentity } = await import('../../keyring/identity-changes.js');
      await removeKeyringIdentity(name, { env: ctx.env, homeDir: homeDirOf(ctx) });
      ctx.stderr.write(`with-secrets: removed identity ${name} from the OS keyring\n`);
      state.outcome = exitWith(EXIT.ok);
    });
};
