// `with-secrets decrypt FILE`: prints a sops file's plaintext with the output rules of `sops decrypt` (debugging, migration).
import { dirname, resolve } from 'node:path';
import { Option } from 'commander';
import { WithSecretsError } from '../../errors.js';
import type { ListNode, MapNode, Node, StoreFormat } from '../../sops/tree.js';
import { homeDirOf } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { exitWith } from '../outcome.js';
import type { RegisterCommand } from './index.js';

const FORMATS = ['yaml', 'json', 'dotenv', 'ini', 'binary'] as const;

interface DecryptFlags {
  inputType?: StoreFormat;
  outputType?: StoreFormat;
  extract?: string;
  ignoreMac?: boolean;
  document?: string;
}

/** The raw `data` string of a binary-store document, as sops' binary emitter requires it. */
function binaryData(branch: MapNode): string | Uint8Array {
  for (const item of branch.items) {
    if (item.type !== 'entry' || item.key !== 'data') continue;
    if (item.value.type === 'str') return item.value.value;
    if (item.value.type === 'bytes') return item.value.value;
    throw new WithSecretsError('malformed', "the 'data' key does not hold a string, so there is no binary data to print", {
      hint: 'name another format with --output-type (json, yaml, dotenv, ini)',
    });
  }
  throw new WithSecretsError('malformed', 'no binary data (a top-level `data` key) in the document', {
    hint: 'name another format with --output-type (json, yaml, dotenv, ini)',
  });
}

/** A scalar printed the way `sops decrypt --extract` prints a non-string value. */
function scalarText(node: Exclude<Node, MapNode | ListNode>, format: StoreFormat, formatFloat: (n: number) => string): string {
  const nl = format === 'yaml' ? '\n' : '';
  switch (node.type) {
    case 'int':
    case 'time':
      return node.value + nl;
    case 'float':
      return formatFloat(node.value) + nl;
    case 'bool':
      return String(node.value) + nl;
    case 'null':
      return 'null' + nl;
    case 'bytes':
      return Buffer.from(node.value).toString('utf8');
    default:
      return node.value;
  }
}

/** A list as plain JSON (only `--output-type json` can print an extracted list). */
function toJson(node: Node | { type: 'comment' }, formatFloat: (n: number) => string): unknown {
  switch (node.type) {
    case 'map':
      return Object.fromEntries(node.items.filter((i) => i.type === 'entry').map((i) => [i.key, toJson(i.value, formatFloat)]));
    case 'list':
      return node.items.filter((i) => i.type !== 'comment').map((i) => toJson(i as Node, formatFloat));
    case 'int':
      return Number(node.value);
    case 'float':
      return node.value;
    case 'null':
      return null;
    case 'bytes':
      return Buffer.from(node.value).toString('utf8');
    case 'comment':
      return undefined;
    default:
      return node.value;
  }
}

/** Registers `decrypt`. */
export const registerDecrypt: RegisterCommand = (program, state) => {
  program
    .command('decrypt')
    .summary('print the decrypted content of a SOPS file, as `sops decrypt` does (prints secrets)')
    .description(
      'print the decrypted content of a SOPS file, as `sops decrypt` does (for debugging and migration; this prints secrets)\n' +
        'identities: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD, SOPS_AGE_SSH_PRIVATE_KEY_FILE, then the config\'s identities: when it has them, else $XDG_CONFIG_HOME/sops/age/keys.txt, ~/.ssh/id_ed25519, ~/.ssh/id_rsa\n' +
        'exit codes: 4 no identity opens the file, 5 integrity (MAC or AES-GCM) failure, 6 malformed file, 7 --extract path not found, 9 I/O',
    )
    .argument('<file>', 'the SOPS-encrypted file')
    .addOption(new Option('--input-type <type>', 'the file format (default: from the extension; anything unknown is binary)').choices(FORMATS))
    .addOption(new Option('--output-type <type>', 'the output format (default: the input format)').choices(FORMATS))
    .option('--extract <path>', 'print only this part: sops syntax \'["a"]["b"]\', \'["list"][0]\', or dotted a.b; a string prints raw')
    .option('--document <n>', 'only this document of a multi-document YAML file (0 is the first; --extract reads document 0 by default)')
    .option('--ignore-mac', 'do not verify the MAC (recovery only: a tampered file is printed as it is)')
    .action(async (file: string, flags: DecryptFlags) => {
      const { ctx } = state;
      const { openSopsFile } = await import('../../sops/open.js');
      const { createIdentityProvider } = await import('../../age/sources.js');
      const { lookupPath, parseKeyPath } = await import('../../sops/key-path.js');
      const { emitStore } = await import('../../sops/stores/index.js');
      const { formatGoFloat } = await import('../../sops/value-codec.js');

      let docIndex: number | undefined;
      if (flags.document !== undefined) {
        if (!/^[0-9]{1,6}$/.test(flags.document)) throw new WithSecretsError('usage', '--document takes a document number (0 is the first)');
        docIndex = Number(flags.document);
      }
      const extractPath = flags.extract === undefined ? undefined : parseKeyPath(flags.extract);
      const verbose = Boolean(program.opts<{ verbose?: boolean }>().verbose);
      // The config's identities: when it has them (as the launch, doctor and the writers use); sops' sources otherwise.
      const { loadOptionalConfig } = await import('./write-common.js');
      const config = await loadOptionalConfig(ctx, program.opts<{ config?: string }>().config);
      const identities = createIdentityProvider({
        env: ctx.env,
        homeDir: homeDirOf(ctx),
        ...(config?.identities === undefined ? {} : { specs: config.identities, baseDir: dirname(config.path) }),
        interactive: Boolean(ctx.stderr.isTTY),
        notes: (msg) => ctx.stderr.write(`with-secrets: ${msg}\n`),
        ...(verbose ? { verbose: (msg: string) => ctx.stderr.write(`with-secrets: ${msg}\n`) } : {}),
      });
      const path = resolve(ctx.cwd, file);
      const opened = await openSopsFile(path, { ...(flags.inputType ? { format: flags.inputType } : {}), ignoreMac: Boolean(flags.ignoreMac), identities });
      if (flags.ignoreMac) ctx.stderr.write(`with-secrets: warning: ${file}: MAC not verified (--ignore-mac)\n`);
      const outFormat = flags.outputType ?? opened.format;

      if (docIndex !== undefined && docIndex >= opened.branches.length) {
        throw new WithSecretsError('usage', `${file} has ${opened.branches.length} document(s); --document ${docIndex} does not exist`);
      }
      const write = (out: string | Uint8Array): void => {
        ctx.stdout.write(out);
      };

      if (extractPath !== undefined) {
        const node = lookupPath(opened.branches[docIndex ?? 0]!, extractPath, file);
        if (node.type === 'map') {
          write(outFormat === 'binary' ? binaryData(node) : await emitStore(outFormat, [node], undefined));
        } else if (node.type === 'list') {
          if (outFormat !== 'json') {
            throw new WithSecretsError('usage', `${flags.extract} is a list; only --output-type json can print an extracted list`);
          }
          write(JSON.stringify(toJson(node, formatGoFloat), null, '\t'));
        } else {
          write(node.type === 'str' ? node.value : node.type === 'bytes' ? node.value : scalarText(node, outFormat, formatGoFloat));
        }
      } else {
        const docs = docIndex === undefined ? opened.branches : [opened.branches[docIndex]!];
        if (outFormat === 'binary') write(binaryData(docs[0]!));
        else write(await emitStore(outFormat, docs, undefined));
      }
      state.outcome = exitWith(EXIT.ok);
    });
};
