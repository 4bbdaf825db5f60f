// `with-secrets init`: first run — a new age identity, an empty SOPS file encrypted to it, and a starter config; all or nothing.
import { lstat, mkdir, readFile, rmdir, unlink } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { WithSecretsError, errnoCode } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import { exitWith } from '../outcome.js';
import type { RegisterCommand } from './index.js';
import { configPathOf, defaultSecretsFile, formatOption, note } from './write-common.js';
import { homeDirOf, type CliContext } from '../context.js';

interface InitFlags {
  file?: string;
  recipient: string[];
  keyring?: string | boolean;
  keyFile?: string;
  useExistingKey?: boolean;
  postQuantum?: boolean;
}

/** True when something (a file, a directory, a dangling symlink) is at `path`. */
async function occupied(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw new WithSecretsError('io', `cannot check ${path} (${errnoCode(err) ?? 'error'})`, { cause: err });
  }
}

/** Files and directories made so far, removed again (newest first) if a later step fails. */
class Undo {
  readonly #files: string[] = [];
  readonly #dirs: string[] = [];

  /** Creates `dir` and its missing parents with mode 0700, remembering which ones were new. */
  async mkdirs(dir: string): Promise<void> {
    const missing: string[] = [];
    let d = resolve(dir);
    while (!(await occupied(d))) {
      missing.unshift(d);
      const parent = dirname(d);
      if (parent === d) break;
      d = parent;
    }
    for (const m of missing) {
      try {
        await mkdir(m, { mode: 0o700 });
      } catch (err) {
        if (errnoCode(err) === 'EEXIST') continue;
        throw new WithSecretsError(errnoCode(err) === 'EACCES' ? 'permission' : 'io', `cannot create the directory ${m} (${errnoCode(err) ?? 'error'})`, { cause: err });
      }
      this.#dirs.push(m);
    }
  }

  file(path: string): void {
    this.#files.push(path);
  }

  async run(): Promise<void> {
    for (const f of this.#files.reverse()) await unlink(f).catch(() => undefined);
    for (const d of this.#dirs.reverse()) await rmdir(d).catch(() => undefined);
  }
}

/** `~/…` when `path` is under the home directory, so the config reads the same on another machine. */
function tildePath(path: string, home: string): string {
  return path.startsWith(home + sep) ? `~/${relative(home, path)}` : path;
}

/** YAML-quotes a path for the starter config. */
function q(s: string): string {
  return JSON.stringify(s);
}

/**
 * The starter config: version, the secrets file, identities (the keyring, or a key file that is not
 * where sops looks), one example profile.
 */
function starterConfig(configPath: string, secretsFile: string, home: string, keyringName: string | undefined, ownKeyFile: string | undefined): string {
  const sops = dirname(secretsFile) === dirname(configPath) ? relative(dirname(configPath), secretsFile) : tildePath(secretsFile, home);
  const lines = [
    '# with-secrets configuration, made by `with-secrets init`.',
    '# A profile names a program and the variables it gets; each value is a key path in sopsFile.',
    '# Add a secret:   with-secrets secret set openai.api_key   (reads the value from stdin or a hidden prompt)',
    '# Run a profile:  with-secrets codex [ARGS…]',
    'version: 1',
    `sopsFile: ${q(sops)}`,
  ];
  if (keyringName !== undefined) {
    lines.push('# The age identity lives in the OS keyring (made by init --keyring).', 'identities:', `  - keyring: ${q(keyringName)}`);
  } else if (ownKeyFile !== undefined) {
    lines.push('# The age identity lives in this key file (given to init with --key-file), not where sops looks.', 'identities:', `  - file: ${q(tildePath(ownKeyFile, home))}`);
  }
  lines.push(
    'profiles:',
    '  # `with-secrets codex` runs codex with OPENAI_API_KEY from openai.api_key; copy it for other tools.',
    '  codex:',
    '    command: codex',
    '    env:',
    '      OPENAI_API_KEY: openai.api_key',
    '',
  );
  return lines.join('\n');
}

/** Runs init; everything it creates is removed again when a step fails. */
async function runInit(ctx: CliContext, flags: InitFlags, configFlag: string | undefined): Promise<void> {
  const home = homeDirOf(ctx);
  const { defaultKeyFilePath } = await import('../../age/sources.js');
  const secretsFile = flags.file === undefined ? defaultSecretsFile(ctx) : resolve(ctx.cwd, flags.file);
  const configPath = await configPathOf(ctx, configFlag);
  const keyringName = flags.keyring === undefined || flags.keyring === false ? undefined : flags.keyring === true ? 'default' : flags.keyring;
  if (keyringName !== undefined && flags.keyFile !== undefined) throw new WithSecretsError('usage', '--keyring and --key-file exclude each other');
  if (keyringName !== undefined && flags.useExistingKey) throw new WithSecretsError('usage', '--keyring and --use-existing-key exclude each other');
  const keyFile = flags.keyFile === undefined ? defaultKeyFilePath(ctx.env, home, process.platform) : resolve(ctx.cwd, flags.keyFile);
  const format = await formatOption(undefined, secretsFile);

  // Refuse before doing anything when a target exists: init never overwrites.
  const taken: string[] = [];
  if (await occupied(secretsFile)) taken.push(`the SOPS file ${secretsFile}`);
  if (await occupied(configPath)) taken.push(`the config ${configPath}`);
  const keyExists = keyringName === undefined && (await occupied(keyFile));
  if (keyExists && !flags.useExistingKey) taken.push(`the age key file ${keyFile}`);
  if (!keyExists && flags.useExistingKey) throw new WithSecretsError('usage', `--use-existing-key: there is no key file at ${keyFile}`);
  if (taken.length > 0) {
    throw new WithSecretsError('exists', `init would overwrite ${taken.join(', ')}; nothing was changed`, {
      hint: keyExists && !flags.useExistingKey && taken.length === 1
        ? 'you already have an age key: run `with-secrets init --use-existing-key` to encrypt to it, or --key-file PATH for a new one'
        : 'move them away, or use --file / --config / --key-file to pick other paths',
    });
  }

  // Recipients: the new (or existing) identity first, then --recipient, each validated before anything is written.
  const { parseRecipient } = await import('../../age/recipient.js');
  const extra = flags.recipient.map((r) => parseRecipient(r).text);
  let identity: { text: string; recipient: string } | undefined;
  let own: string[];
  if (flags.useExistingKey) {
    const { parseKeyFile } = await import('../../age/key-file.js');
    let text: string;
    try {
      text = await readFile(keyFile, 'utf8');
    } catch (err) {
      const code = errnoCode(err);
      throw new WithSecretsError(code === 'EACCES' ? 'permission' : 'io', `${keyFile}: cannot read the key file (${code === 'EISDIR' ? 'it is a directory' : (code ?? 'error')})`, {
        cause: err,
        hint: 'point --key-file at your age key file',
      });
    }
    const parsed = parseKeyFile(text, keyFile);
    own = await Promise.all(parsed.identities.map((i) => i.recipient()));
    if (own.length === 0) throw new WithSecretsError('identity-invalid', `${keyFile} holds no age key this version can use`);
  } else {
    const { generateNewIdentity } = await import('../../age/new-identity.js');
    identity = await generateNewIdentity(flags.postQuantum ? { postQuantum: true } : {});
    own = [identity.recipient];
  }

  // A .sops.yaml rule for the new file supplies key groups and partial-encryption rules, as sops would.
  const { findSopsConfig, loadCreationRule } = await import('../../sops/creation-rules.js');
  const sopsConfig = ctx.env['SOPS_CONFIG'];
  const found = await findSopsConfig(secretsFile, ctx.cwd, sopsConfig === '' ? undefined : sopsConfig);
  let rule;
  if (found.path !== undefined) {
    try {
      rule = await loadCreationRule(found.path, secretsFile, ctx.cwd);
    } catch (err) {
      // A project's .sops.yaml found from the cwd usually has no rule for a file in ~/.config: not an error for init.
      if (!(err instanceof WithSecretsError && /no creation rule matches/.test(err.message)) || sopsConfig) throw err;
    }
    if (rule !== undefined) note(ctx, `using creation rule ${rule.index + 1} of ${found.path}`);
  }
  const groups = (rule?.keyGroups ?? [[]]).map((g) => [...g]);
  for (const r of [...own, ...extra]) if (!groups[0]!.includes(r)) groups[0]!.push(r);

  const { encryptNewDocument } = await import('../../sops/save.js');
  const { loadStoreIndent } = await import('../../sops/creation-rules.js');
  const indent = found.path === undefined ? undefined : await loadStoreIndent(found.path, format);
  const sopsText = await encryptNewDocument(secretsFile, {
    format,
    branches: [{ type: 'map', items: format === 'binary' ? [{ type: 'entry', key: 'data', value: { type: 'str', value: '' } }] : [] }],
    keyGroups: groups,
    ...(rule === undefined ? {} : { shamirThreshold: rule.shamirThreshold, rules: rule.encryptionRules, macOnlyEncrypted: rule.macOnlyEncrypted }),
  }, indent === undefined ? {} : { indent });
  // A key file away from sops' default is one only the config names: write it there.
  const ownKeyFile = keyringName === undefined && keyFile !== defaultKeyFilePath(ctx.env, home, process.platform) ? keyFile : undefined;
  const configText = starterConfig(configPath, secretsFile, home, keyringName, ownKeyFile);

  const { writeFileAtomic } = await import('../../fs/atomic-write.js');
  const undo = new Undo();
  try {
    await undo.mkdirs(dirname(secretsFile));
    await writeFileAtomic(secretsFile, sopsText, { exclusive: true });
    undo.file(secretsFile);
    await undo.mkdirs(dirname(configPath));
    await writeFileAtomic(configPath, configText, { exclusive: true, newFileMode: 0o600 });
    undo.file(configPath);
    if (identity !== undefined && keyringName === undefined) {
      await undo.mkdirs(dirname(keyFile));
      await writeFileAtomic(keyFile, identity.text, { exclusive: true });
      undo.file(keyFile);
    }
    if (identity !== undefined && keyringName !== undefined) {
      // Last, so a failure leaves nothing else behind; the keyring refuses to replace an identity of that name.
      const { storeKeyringIdentity } = await import('../../keyring/identity-changes.js');
      await storeKeyringIdentity(keyringName, identity.text, [identity.recipient], { env: ctx.env, homeDir: home });
    }
  } catch (err) {
    await undo.run();
    throw err;
  }

  for (const w of found.warnings) note(ctx, `warning: ${w}`);
  note(ctx, identity === undefined ? `using the existing age key(s) in ${keyFile}` : keyringName !== undefined ? `new age identity stored in the OS keyring as "${keyringName}"` : ownKeyFile === undefined ? `new age identity in ${keyFile} (mode 0600; sops and sops-nix read it there too)` : `new age identity in ${keyFile} (mode 0600; named under identities: in the config; sops reads it with SOPS_AGE_KEY_FILE=${keyFile})`);
  note(ctx, `recipient: ${own.join(', ')}`);
  note(ctx, `created ${secretsFile} (encrypted to ${groups.flat().length} recipient${groups.flat().length === 1 ? '' : 's'})`);
  note(ctx, `created ${configPath} with the example profile "codex"`);
  note(ctx, 'next: with-secrets secret set openai.api_key   then   with-secrets codex');
  if (identity !== undefined && keyringName === undefined) note(ctx, `back up ${keyFile}: without it the secrets cannot be decrypted`);
}

/** Registers `init`. */
export const registerInit: RegisterCommand = (program, state) => {
  program
    .command('init')
    .summary('first run: a new age identity, an empty SOPS file and a starter config')
    .description(
      'First run: make a new age identity (a 0600 key file at sops\' keys.txt path, which sops and sops-nix read too, or ' +
        'the OS keyring with --keyring), an empty SOPS file encrypted to it (plus any --recipient; a matching .sops.yaml ' +
        'creation rule applies), and a starter config with one example profile. Refuses to overwrite anything; on failure ' +
        'nothing is left behind.',
    )
    .option('-f, --file <file>', 'the SOPS file to create (default: $XDG_CONFIG_HOME/with-secrets/secrets.yaml)')
    .option('-r, --recipient <recipient>', 'also encrypt to this recipient (age1…, age1pq1…, ssh-ed25519/ssh-rsa line); repeatable', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--keyring [name]', 'store the new identity in the OS keyring under NAME (default "default") instead of a key file')
    .option('--key-file <path>', 'write the new identity here (default: sops\' key file, $XDG_CONFIG_HOME/sops/age/keys.txt)')
    .option('--use-existing-key', 'do not make an identity: encrypt to the keys already in the key file')
    .option('--post-quantum', 'make a post-quantum hybrid identity (age1pq1…; needs sops ≥ 3.13 / age ≥ 1.3 to read elsewhere)')
    .action(async (flags: InitFlags) => {
      await runInit(state.ctx, flags, program.opts<{ config?: string }>().config);
      state.outcome = exitWith(EXIT.ok);
    });
};
