// The identity provider: every place a user keeps an age key, in sops' order, each loaded lazily and once.
import { isAbsolute, join, resolve } from 'node:path';
import { WithSecretsError } from '../errors.js';
import type { DescribedIdentity } from './age-key-identity.js';
import type { IdentityProvider, IdentitySpec, LoadedSource } from './provider.js';
import { readKeyFile } from './file-safety.js';
import { parseIdentityContent, type ContentContext } from './identity-content.js';

/** Inputs of {@link createIdentityProvider}; everything the core would otherwise take from `process`. */
export interface IdentityProviderOptions {
  /** The environment (`SOPS_AGE_*`, `XDG_CONFIG_HOME`, and the env a key command runs with). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The user's home directory (for `~/.ssh/…`, `~/.config`, and `~/` in config paths). */
  readonly homeDir: string;
  /** The config's `identities:` list; without it, sops' default lookup applies. */
  readonly specs?: readonly IdentitySpec[];
  /** Relative `file:` paths of `specs` are resolved against this (the config file's directory). */
  readonly baseDir?: string;
  /** Whether a passphrase may be asked for on the terminal. */
  readonly interactive: boolean;
  /** Warnings and notes the user should see (skipped lines, readable key files, failed sources). */
  readonly notes: (msg: string) => void;
  /** Notes shown only under `--verbose` (default SSH keys skipped, sources not found). */
  readonly verbose?: (msg: string) => void;
  /** Asks for a passphrase without echo; defaults to a prompt on `/dev/tty`. */
  readonly askPassphrase?: (prompt: string) => Promise<string>;
  /** Reads an identity stored in the OS keyring under `name`; defaults to the keyring module. */
  readonly readKeyringIdentity?: (name: string) => Promise<Uint8Array>;
  /** The uid key files must belong to; defaults to the current user's. */
  readonly uid?: number;
  /** `darwin` puts sops' keys.txt under `~/Library/Application Support` when XDG_CONFIG_HOME is unset. */
  readonly platform?: NodeJS.Platform;
  /** Time limit of a key command (SOPS_AGE_KEY_CMD, `command:`), in ms; default 60 s (a touch prompt needs time). */
  readonly commandTimeoutMs?: number;
}

/** A provider that can also say which sources failed, so a caller can report the most useful error. */
export interface SourceProvider extends IdentityProvider {
  /** The errors of sources that failed (not those skipped or not found), in order. */
  failures(): readonly WithSecretsError[];
}

/** How a source ended up. */
type Outcome =
  | { readonly status: 'loaded'; readonly identities: readonly DescribedIdentity[] }
  | { readonly status: 'absent' }
  | { readonly status: 'skipped'; readonly reason: string }
  | { readonly status: 'failed'; readonly error: WithSecretsError };

/**
 * One place identities may come from. `optional`: a default location that may be missing.
 * `quiet`: a default SSH key, skipped without a warning when unusable (as sops does).
 */
interface SourceDef {
  readonly label: string;
  readonly optional: boolean;
  readonly quiet: boolean;
  load(): Promise<DescribedIdentity[] | undefined>;
}

/**
 * sops' default key file: `$XDG_CONFIG_HOME/sops/age/keys.txt`, else `~/.config/…` (on macOS,
 * `~/Library/Application Support/…` when XDG_CONFIG_HOME is unset or empty), as sops' `getUserConfigDir`.
 */
export function defaultKeyFilePath(env: Readonly<Record<string, string | undefined>>, homeDir: string, platform: NodeJS.Platform = 'linux'): string {
  const xdg = env['XDG_CONFIG_HOME'];
  if (xdg !== undefined && xdg !== '') return join(xdg, 'sops', 'age', 'keys.txt');
  if (platform === 'darwin') return join(homeDir, 'Library', 'Application Support', 'sops', 'age', 'keys.txt');
  return join(homeDir, '.config', 'sops', 'age', 'keys.txt');
}

/** Expands a leading `~/` and resolves a relative path against `baseDir`. */
export function resolveKeyPath(path: string, homeDir: string, baseDir: string | undefined): string {
  if (path === '~') return homeDir;
  if (path.startsWith('~/')) return join(homeDir, path.slice(2));
  if (isAbsolute(path) || baseDir === undefined) return resolve(path);
  return resolve(baseDir, path);
}

/**
 * Builds the identity provider for one run. Order (normative): the `SOPS_AGE_*` variables that are
 * set (`SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD`, `SOPS_AGE_SSH_PRIVATE_KEY_FILE`),
 * then the config's `identities:` in order, or without them sops' defaults (keys.txt, then
 * `~/.ssh/id_ed25519`, `~/.ssh/id_rsa`). A source that fails is reported and the next one tried;
 * nothing is loaded before `sources()` reaches it.
 */
export function createIdentityProvider(options: IdentityProviderOptions): SourceProvider {
  const env = options.env;
  const uid = options.uid ?? safeUid();
  const verbose = options.verbose ?? (() => {});
  const ctx: ContentContext = {
    // Read when a passphrase is needed, not before: the launcher's probe loads node:tty (perf, issue 7).
    get interactive() {
      return options.interactive;
    },
    askPassphrase: options.askPassphrase ?? (async (prompt) => (await import('./tty-prompt.js')).promptHidden(prompt)),
    notes: options.notes,
  };
  const fileSource = (label: string, path: string, optional: boolean, sshDefault = false): SourceDef => ({
    label,
    optional,
    quiet: sshDefault,
    async load() {
      const read = await readKeyFile(path, uid);
      if (read === undefined) {
        if (optional) return undefined;
        throw new WithSecretsError('io', `${label}: file not found`, { hint: 'check the path, or remove the setting' });
      }
      if (read.warning !== undefined) options.notes(`warning: ${read.warning}`);
      if (sshDefault) {
        // sops skips a default SSH key it cannot use; so do we (the note shows under --verbose).
        const { detectContentKind } = await import('./identity-content.js');
        const kind = detectContentKind(read.bytes.toString('utf8'));
        if (kind !== 'ssh-openssh' && kind !== 'ssh-pem') throw new SkipSource('not an SSH private key this version reads');
      }
      return parseIdentityContent(read.bytes, label, ctx);
    },
  });

  const defs: SourceDef[] = [];
  const key = env['SOPS_AGE_KEY'];
  if (key !== undefined && key !== '') {
    defs.push({
      label: 'SOPS_AGE_KEY',
      optional: false,
      quiet: false,
      load: () => parseIdentityContent(Buffer.from(key, 'utf8'), 'SOPS_AGE_KEY', { ...ctx, words: true }),
    });
  }
  const keyFile = env['SOPS_AGE_KEY_FILE'];
  if (keyFile !== undefined && keyFile !== '') {
    const path = resolveKeyPath(keyFile, options.homeDir, undefined);
    defs.push(fileSource(`SOPS_AGE_KEY_FILE (${path})`, path, false));
  }
  const keyCmd = env['SOPS_AGE_KEY_CMD'];
  if (keyCmd !== undefined && keyCmd !== '') {
    defs.push({
      label: 'SOPS_AGE_KEY_CMD',
      optional: false,
      quiet: false,
      async load() {
        const { splitShellWords } = await import('./shell-split.js');
        const argv = splitShellWords(keyCmd, 'SOPS_AGE_KEY_CMD');
        return loadCommand(argv, `SOPS_AGE_KEY_CMD (${argv[0] ?? ''})`);
      },
    });
  }
  const sshFile = env['SOPS_AGE_SSH_PRIVATE_KEY_FILE'];
  if (sshFile !== undefined && sshFile !== '') {
    const path = resolveKeyPath(sshFile, options.homeDir, undefined);
    defs.push(fileSource(`SOPS_AGE_SSH_PRIVATE_KEY_FILE (${path})`, path, false));
  }
  const loadCommand = async (argv: readonly string[], label: string): Promise<DescribedIdentity[]> => {
    const { runKeyCommand } = await import('./key-command.js');
    const out = await runKeyCommand(argv, { env, label, timeoutMs: options.commandTimeoutMs ?? 60_000 });
    return parseIdentityContent(out, label, ctx);
  };

  if (options.specs !== undefined) {
    for (const spec of options.specs) {
      if ('file' in spec) {
        const path = resolveKeyPath(spec.file, options.homeDir, options.baseDir);
        defs.push(fileSource(`file: ${path}`, path, false));
      } else if ('command' in spec) {
        defs.push({ label: `command: ${spec.command[0] ?? ''}`, optional: false, quiet: false, load: () => loadCommand(spec.command, `command: ${spec.command[0] ?? ''}`) });
      } else {
        const name = spec.keyring;
        defs.push({
          label: `keyring: ${name}`,
          optional: false,
          quiet: false,
          async load() {
            const read = options.readKeyringIdentity ?? ((n: string) => defaultReadKeyringIdentity(n, env));
            return parseIdentityContent(await read(name), `keyring: ${name}`, ctx);
          },
        });
      }
    }
  } else {
    const path = defaultKeyFilePath(env, options.homeDir, options.platform);
    defs.push(fileSource(path, path, true));
    for (const name of ['id_ed25519', 'id_rsa']) {
      const p = join(options.homeDir, '.ssh', name);
      defs.push(fileSource(p, p, true, true));
    }
  }

  const outcomes = new Map<SourceDef, Promise<Outcome>>();
  const settled: Array<[SourceDef, Outcome]> = [];
  // Messages of errors start with the source's label; the report puts the label first already.
  const line = (def: SourceDef, o: Outcome): string => {
    const text = describeOutcome(o);
    return `${def.label}: ${text.replace(`failed: ${def.label}: `, 'failed: ')}`;
  };
  const run = (def: SourceDef): Promise<Outcome> => {
    let p = outcomes.get(def);
    if (p === undefined) {
      p = loadOutcome(def, options.notes, verbose).then((o) => {
        settled.push([def, o]);
        return o;
      });
      outcomes.set(def, p);
    }
    return p;
  };

  return {
    async *sources(): AsyncIterable<LoadedSource> {
      for (const def of defs) {
        const o = await run(def);
        // Ctrl-C at a passphrase prompt stops the run instead of moving on to the next source.
        if (o.status === 'failed' && o.error.name === 'PromptCancelledError') throw o.error;
        if (o.status === 'loaded' && o.identities.length > 0) yield { label: def.label, identities: o.identities };
      }
    },
    report: () => settled.map(([def, o]) => line(def, o)),
    failures: () => settled.flatMap(([, o]) => (o.status === 'failed' ? [o.error] : [])),
  };
}

/** Thrown by a loader to mark its source as skipped (not failed), with the reason. */
class SkipSource extends Error {}

async function loadOutcome(def: SourceDef, notes: (m: string) => void, verbose: (m: string) => void): Promise<Outcome> {
  try {
    const ids = await def.load();
    if (ids === undefined) {
      verbose(`${def.label}: not found`);
      return { status: 'absent' };
    }
    return { status: 'loaded', identities: ids };
  } catch (e) {
    if (e instanceof SkipSource) {
      verbose(`${def.label}: skipped: ${e.message}`);
      return { status: 'skipped', reason: e.message };
    }
    const err = e instanceof WithSecretsError ? e : new WithSecretsError('io', `${def.label}: could not be read`, { cause: e });
    if (def.quiet) {
      // A default location we merely probed: an unusable default SSH key is normal, not a warning.
      verbose(`${def.label}: skipped: ${err.message}`);
      return { status: 'skipped', reason: err.message };
    }
    if (err.name === 'PromptCancelledError') return { status: 'failed', error: err };
    if (err.code === 'no-tty') {
      notes(`${def.label}: skipped: needs a passphrase, and there is no terminal`);
      return { status: 'skipped', reason: 'needs a passphrase, and there is no terminal' };
    }
    notes(`warning: ${err.message}`);
    if (err.hint !== undefined) notes(`hint: ${err.hint}`);
    return { status: 'failed', error: err };
  }
}

function describeOutcome(o: Outcome): string {
  switch (o.status) {
    case 'loaded':
      return o.identities.length === 1 ? '1 identity' : `${o.identities.length} identities`;
    case 'absent':
      return 'not found';
    case 'skipped':
      return `skipped: ${o.reason}`;
    case 'failed':
      return `failed: ${o.error.message}`;
  }
}

function safeUid(): number | undefined {
  try {
    // process.getuid, not os.userInfo: the uid is all we need, and userInfo reads the passwd database.
    const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
    return uid >= 0 ? uid : undefined;
  } catch {
    return undefined;
  }
}

async function defaultReadKeyringIdentity(name: string, env: Readonly<Record<string, string | undefined>>): Promise<Uint8Array> {
  const { readKeyringIdentity } = await import('../keyring/identity-store.js');
  return readKeyringIdentity(name, { env });
}
