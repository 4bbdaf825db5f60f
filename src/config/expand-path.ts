// Expands `~`, `$HOME` and the `$XDG_*` base directories in config paths, and anchors relative paths.
import { isAbsolute, join, resolve } from 'node:path';

/** What path expansion needs: the environment, the home directory and the directory relative paths start from. */
export interface ExpandContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homeDir: string;
  /** Relative paths are taken relative to this (the config file's directory). */
  readonly baseDir: string;
}

/** The XDG base directories and their defaults under the home directory (XDG Base Directory spec). */
const XDG_DEFAULTS: Readonly<Record<string, readonly string[] | undefined>> = {
  XDG_CONFIG_HOME: ['.config'],
  XDG_DATA_HOME: ['.local', 'share'],
  XDG_STATE_HOME: ['.local', 'state'],
  XDG_CACHE_HOME: ['.cache'],
  XDG_RUNTIME_DIR: undefined,
};

/**
 * A path could not be expanded; `message` says why (no value is ever involved, only names).
 * `unset` when it names a variable this environment lacks ($XDG_RUNTIME_DIR outside a user session):
 * the config is fine, only this environment cannot use that path.
 */
export class ExpandError extends Error {
  override readonly name = 'ExpandError';
  constructor(
    message: string,
    readonly unset = false,
  ) {
    super(message);
  }
}

/** The value of `$NAME` for expansion: HOME, or an XDG base directory with its spec default. */
function variableValue(name: string, ctx: ExpandContext): string {
  if (name === 'HOME') return ctx.homeDir;
  if (!(name in XDG_DEFAULTS)) {
    throw new ExpandError(`$${name} cannot be used in a path (only ~, $HOME and $XDG_CONFIG_HOME, $XDG_DATA_HOME, $XDG_STATE_HOME, $XDG_CACHE_HOME, $XDG_RUNTIME_DIR expand)`);
  }
  const value = ctx.env[name];
  // The spec: a value that is unset, empty or relative is ignored and the default used.
  if (value !== undefined && value !== '' && isAbsolute(value)) return value;
  const fallback = XDG_DEFAULTS[name];
  if (fallback === undefined) {
    throw new ExpandError(`$${name} is not set (or not an absolute path); a desktop or systemd user session sets it, cron and ssh sessions may not: set it, or use another path`, true);
  }
  return join(ctx.homeDir, ...fallback);
}

/**
 * Expands a config path: a leading `~` or `~/`, then `$VAR` and `${VAR}` for HOME and the XDG base
 * directories; other variables and `~user` are errors. A relative result is resolved against `baseDir`.
 */
export function expandPath(raw: string, ctx: ExpandContext): string {
  if (raw === '') throw new ExpandError('the path is empty');
  let path = raw;
  if (path === '~' || path.startsWith('~/')) path = ctx.homeDir + path.slice(1);
  else if (path.startsWith('~')) throw new ExpandError('~user paths are not supported; write the full path');
  path = path.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced: string | undefined, bare: string | undefined) =>
    variableValue((braced ?? bare)!, ctx),
  );
  if (path.includes('$')) throw new ExpandError('a "$" that is not $HOME or $XDG_… is not allowed in a path');
  return isAbsolute(path) ? resolve(path) : resolve(ctx.baseDir, path);
}
