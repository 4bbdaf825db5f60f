// Finds, reads, parses and validates the config file; every failure names the file, the line and the key.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { errnoCode, WithSecretsError } from '../errors.js';
import type { Config } from './config-types.js';
import { ConfigSyntaxError, findConfigLine, parseConfigText } from './parse-config-text.js';
import { ConfigIssue, formatConfigPath, validateConfig } from './validate-config.js';

/** Where to look for the config. */
export interface LocateOptions {
  /** `--config FILE`, if given. */
  readonly flag?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homeDir: string;
  readonly cwd: string;
}

/** The config path: `--config`, else `$WITH_SECRETS_CONFIG`, else `$XDG_CONFIG_HOME/with-secrets/config.yaml` (default `~/.config`). */
export function locateConfig(opts: LocateOptions): string {
  if (opts.flag !== undefined && opts.flag !== '') return resolve(opts.cwd, opts.flag);
  const fromEnv = opts.env['WITH_SECRETS_CONFIG'];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(opts.cwd, fromEnv);
  const xdg = opts.env['XDG_CONFIG_HOME'];
  const base = xdg !== undefined && xdg !== '' && isAbsolute(xdg) ? xdg : join(opts.homeDir, '.config');
  return join(base, 'with-secrets', 'config.yaml');
}

/** What loading needs. */
export interface LoadConfigOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homeDir: string;
  /** Checks a key path's syntax at load time (the SOPS key-path parser). */
  readonly checkKeyPath?: (key: string) => void;
}

/** Reads and validates the config at `path`. Throws `config-invalid` (or `io`) with file, line and key. */
export async function loadConfig(path: string, opts: LoadConfigOptions): Promise<Config> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') {
      throw new WithSecretsError('config-invalid', `no config file at ${path}`, {
        hint: 'create it (see the README for an example), or point --config / $WITH_SECRETS_CONFIG at yours',
        cause: e,
      });
    }
    if (code === 'EISDIR') throw new WithSecretsError('config-invalid', `${path} is a directory, not a config file`, { cause: e });
    throw new WithSecretsError('io', `cannot read the config ${path} (${code ?? 'error'})`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = await parseConfigText(text);
  } catch (e) {
    if (e instanceof ConfigSyntaxError) {
      throw new WithSecretsError('config-invalid', `${path}${e.line === undefined ? '' : `:${e.line}`}: ${e.message}`, { cause: e });
    }
    throw e;
  }
  try {
    return validateConfig(doc, {
      path,
      env: opts.env,
      homeDir: opts.homeDir,
      baseDir: dirname(path),
      ...(opts.checkKeyPath === undefined ? {} : { checkKeyPath: opts.checkKeyPath }),
    });
  } catch (e) {
    if (!(e instanceof ConfigIssue)) throw e;
    const line = await findConfigLine(text, e.path, e.at).catch(() => undefined);
    throw new WithSecretsError('config-invalid', `${path}${line === undefined ? '' : `:${line}`}: ${formatConfigPath(e.path)}: ${e.message}`, {
      ...(e.hint === undefined ? {} : { hint: e.hint }),
      cause: e,
    });
  }
}
