// What the writing commands (init, secret, recipients, rotate) share: the secrets file, the config, identities, reading a value.
import { isAbsolute, join, resolve } from 'node:path';
import { WithSecretsError, errnoCode, isWithSecretsError } from '../../errors.js';
import type { Config } from '../../config/config-types.js';
import type { IdentityProvider } from '../../age/provider.js';
import type { StoreFormat } from '../../sops/tree.js';
import { Option, type Command } from 'commander';
import { homeDirOf, type CliContext } from '../context.js';
import type { CommandState } from '../program.js';

/** `$XDG_CONFIG_HOME` (when absolute) or `~/.config`. */
export function configHomeOf(ctx: CliContext): string {
  const xdg = ctx.env['XDG_CONFIG_HOME'];
  return xdg !== undefined && xdg !== '' && isAbsolute(xdg) ? xdg : join(homeDirOf(ctx), '.config');
}

/** The default secrets file `init` creates: `$XDG_CONFIG_HOME/with-secrets/secrets.yaml`. */
export function defaultSecretsFile(ctx: CliContext): string {
  return join(configHomeOf(ctx), 'with-secrets', 'secrets.yaml');
}

/** The config path as every command finds it (`--config`, `$WITH_SECRETS_CONFIG`, the default). */
export async function configPathOf(ctx: CliContext, flag: string | undefined): Promise<string> {
  const { locateConfig } = await import('../../config/load-config.js');
  return locateConfig({ flag, env: ctx.env, homeDir: homeDirOf(ctx), cwd: ctx.cwd });
}

/**
 * The config when there is one. A missing config is fine unless it was named (`--config` or
 * `$WITH_SECRETS_CONFIG`); an invalid one is an error, since it may name the identities to use.
 */
export async function loadOptionalConfig(ctx: CliContext, flag: string | undefined): Promise<Config | undefined> {
  const { loadConfig } = await import('../../config/load-config.js');
  const { parseKeyPath } = await import('../../sops/key-path.js');
  const path = await configPathOf(ctx, flag);
  const named = (flag !== undefined && flag !== '') || (ctx.env['WITH_SECRETS_CONFIG'] ?? '') !== '';
  try {
    return await loadConfig(path, { env: ctx.env, homeDir: homeDirOf(ctx), checkKeyPath: (k) => void parseKeyPath(k) });
  } catch (err) {
    if (!named && isWithSecretsError(err, 'config-invalid') && errnoCode(err.cause) === 'ENOENT') return undefined;
    throw err;
  }
}

/** The secrets file a command works on: `--file`, else the config's `sopsFile`, else the default. */
export function secretsFileOf(ctx: CliContext, fileFlag: string | undefined, config: Config | undefined): string {
  if (fileFlag !== undefined && fileFlag !== '') return resolve(ctx.cwd, fileFlag);
  return config?.sopsFile ?? defaultSecretsFile(ctx);
}

/** Parses `--input-type`-style format names. */
export async function formatOption(name: string | undefined, file: string): Promise<StoreFormat> {
  const { formatFromPath, isStoreFormat } = await import('../../sops/stores/format.js');
  if (name === undefined) return formatFromPath(file);
  if (!isStoreFormat(name)) throw new WithSecretsError('usage', `unknown format "${name}"`, { hint: 'use one of yaml, json, dotenv, ini, binary' });
  return name;
}

/** Writes a note for the user to stderr, prefixed like every with-secrets message. */
export function note(ctx: CliContext, message: string): void {
  ctx.stderr.write(`with-secrets: ${message}\n`);
}

/** The identity provider for opening files: the config's `identities:` if any, else sops' sources. */
export async function identitiesFor(ctx: CliContext, config: Config | undefined, verbose: boolean): Promise<IdentityProvider> {
  const { createIdentityProvider } = await import('../../age/sources.js');
  const { dirname } = await import('node:path');
  return createIdentityProvider({
    env: ctx.env,
    homeDir: homeDirOf(ctx),
    ...(config?.identities === undefined ? {} : { specs: config.identities, baseDir: dirname(config.path) }),
    interactive: true,
    notes: (m) => note(ctx, m),
    ...(verbose ? { verbose: (m: string) => note(ctx, m) } : {}),
  });
}

/**
 * The output indentation the `.sops.yaml` for `file` asks for (`stores.<format>.indent`), found as
 * sops finds it; `{}` when none, so it can be spread into write options.
 */
export async function indentFor(ctx: CliContext, file: string, format: StoreFormat): Promise<{ indent?: number }> {
  const { findSopsConfig, loadStoreIndent } = await import('../../sops/creation-rules.js');
  const explicit = ctx.env['SOPS_CONFIG'];
  const found = await findSopsConfig(file, ctx.cwd, explicit === '' ? undefined : explicit);
  if (found.path === undefined) return {};
  try {
    const indent = await loadStoreIndent(found.path, format);
    return indent === undefined ? {} : { indent };
  } catch (err) {
    // An explicitly named config must be readable; one found by searching may be absent (SOPS_CONFIG unset).
    if (explicit !== undefined && explicit !== '') throw err;
    if (isWithSecretsError(err, 'config-invalid') && errnoCode(err.cause) === 'ENOENT') return {};
    throw err;
  }
}

/** How long writers wait for the lock: `$WITH_SECRETS_LOCK_TIMEOUT` seconds, default 30. */
export function lockTimeoutMsOf(ctx: CliContext): number {
  const raw = ctx.env['WITH_SECRETS_LOCK_TIMEOUT'];
  if (raw === undefined || raw === '') return 30_000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) {
    throw new WithSecretsError('usage', `WITH_SECRETS_LOCK_TIMEOUT must be a number of seconds, not "${raw}"`);
  }
  return n * 1000;
}

/** The longest value `secret set` reads (sops files are read whole; this keeps a stray pipe from filling memory). */
const MAX_VALUE_BYTES = 1024 * 1024;

/**
 * Reads the value of `secret set`: all of stdin when it is not a terminal (one trailing newline
 * dropped; empty is an error), else a no-echo prompt on the terminal. Never from argv.
 */
export async function readSecretValue(ctx: CliContext, name: string): Promise<string> {
  if (ctx.stdin.isTTY === true) {
    const { promptHidden } = await import('../../age/tty-prompt.js');
    let value: string;
    try {
      value = await promptHidden(`value for ${name} (input hidden): `);
    } catch (err) {
      if (isWithSecretsError(err, 'no-identity')) throw new WithSecretsError('usage', 'cancelled; nothing was changed', { cause: err });
      throw err;
    }
    if (value === '') throw new WithSecretsError('usage', 'the value is empty; nothing was changed', { hint: 'type or paste the value at the prompt' });
    return value;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.stdin) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    size += b.length;
    if (size > MAX_VALUE_BYTES) throw new WithSecretsError('usage', `the value on stdin is larger than ${MAX_VALUE_BYTES} bytes`);
    chunks.push(b);
  }
  const buf = Buffer.concat(chunks);
  const text = buf.toString('utf8');
  if (Buffer.from(text, 'utf8').compare(buf) !== 0) {
    throw new WithSecretsError('usage', 'the value on stdin is not valid UTF-8', { hint: 'sops values are text; for binary data use base64' });
  }
  const value = text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
  if (value === '') {
    throw new WithSecretsError('usage', 'no value on stdin; nothing was changed', {
      hint: `pipe the value in (e.g. \`pass show x | with-secrets secret set ${name}\`), or run from a terminal to be prompted`,
    });
  }
  return value;
}

/** The store formats `--input-type` accepts. */
const FORMATS = ['yaml', 'json', 'dotenv', 'ini', 'binary'] as const;

/** The flags of {@link fileOptions}. */
export interface FileFlags {
  file?: string;
  inputType?: StoreFormat;
}

/** Adds `--file` and `--input-type`, the options of every command that works on the SOPS file. */
export function fileOptions(cmd: Command): Command {
  return cmd
    .option('-f, --file <file>', "the SOPS file (default: the config's sopsFile, else $XDG_CONFIG_HOME/with-secrets/secrets.yaml)")
    .addOption(new Option('--input-type <type>', 'the file format (default: from the extension)').choices(FORMATS));
}

/** What an action on the SOPS file needs: the context, the config (if any), the file, its format, `--verbose`. */
export async function prepareFileCommand(program: Command, state: CommandState, flags: FileFlags) {
  const { ctx } = state;
  const globals = program.opts<{ config?: string; verbose?: boolean }>();
  const config = await loadOptionalConfig(ctx, globals.config);
  const file = secretsFileOf(ctx, flags.file, config);
  const format = await formatOption(flags.inputType, file);
  return { ctx, config, file, format, verbose: Boolean(globals.verbose) };
}
