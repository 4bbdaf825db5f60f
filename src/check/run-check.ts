// `with-secrets check`: verifies, without prompting and without printing a value, that every profile will get its secrets.
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { IdentitySpec } from '../age/provider.js';
import type { Config, Profile, SecretRef } from '../config/config-types.js';
import { WithSecretsError } from '../errors.js';
import type { SecretReaders } from '../launch/collect-secrets.js';

/** One line of the report: what was checked and how it went; `message` and `hint` never hold a value. */
export interface CheckResult {
  /** The profile, or undefined for the config itself. */
  readonly profile?: string;
  /** What was checked: `config`, `command`, `file PATH`, a variable name, `envFrom PATH`. */
  readonly check: string;
  readonly status: 'ok' | 'fail' | 'skip';
  readonly message?: string;
  readonly hint?: string;
}

/** The whole report. */
export interface CheckReport {
  readonly config: string;
  readonly ok: boolean;
  readonly results: readonly CheckResult[];
  /** Identity sources tried and how (labels only), and notes such as a key file others can read. */
  readonly notes: readonly string[];
}

/** What {@link runCheck} needs; the CLI fills it. */
export interface CheckOptions {
  readonly configPath: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homeDir: string;
  readonly cwd: string;
  /** False for `--no-decrypt`: config, files and commands only. */
  readonly decrypt: boolean;
  /** Real paths of with-secrets itself, skipped like shims when commands are resolved. */
  readonly selfPaths: readonly string[];
  /** Bound on a key command (SOPS_AGE_KEY_CMD, `command:`), in ms. */
  readonly commandTimeoutMs?: number;
  /** Bound on everything one profile's secrets need (every identity source, every file), in ms. */
  readonly profileTimeoutMs?: number;
}

/** The message and hint of a failure; other errors show only their class name (their text could quote input). */
function describeError(e: unknown): { message: string; hint?: string } {
  if (e instanceof WithSecretsError) return { message: e.message, ...(e.hint === undefined ? {} : { hint: e.hint }) };
  return { message: `unexpected error (${e instanceof Error ? e.name : typeof e})` };
}

function fail(profile: string | undefined, check: string, e: unknown): CheckResult {
  return { ...(profile === undefined ? {} : { profile }), check, status: 'fail', ...describeError(e) };
}

/** Every file a reference reads (not keyring entries). */
function refFile(ref: SecretRef): string | undefined {
  return ref.kind === 'keyring' ? undefined : ref.file;
}

/** Rejects after `ms` with a message naming what timed out; the timer never keeps the process alive. */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new WithSecretsError('io', `${what} did not finish within ${Math.round(ms / 1000)} s`, { hint: 'a key command or keyring may be waiting for a touch or a password; check it with `with-secrets doctor`' })), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Checks that every file the profile reads exists and is a regular file. */
function checkFiles(profile: Profile): CheckResult[] {
  const files = new Map<string, string | undefined>();
  for (const b of profile.env) {
    const f = refFile(b.ref);
    if (f !== undefined && b.ref.kind !== 'keyring') files.set(f, b.ref.unavailable);
  }
  for (const s of profile.envFrom) files.set(s.file, s.unavailable);
  const out: CheckResult[] = [];
  for (const [file, unavailable] of files) {
    if (unavailable !== undefined) {
      // A path this environment cannot expand ($XDG_RUNTIME_DIR unset): say why, not "not found".
      out.push(fail(profile.name, `file ${file}`, new WithSecretsError('config-invalid', unavailable)));
      continue;
    }
    try {
      if (!statSync(file).isFile()) throw new WithSecretsError('io', `${file} is not a regular file`);
      out.push({ profile: profile.name, check: `file ${file}`, status: 'ok' });
    } catch (e) {
      out.push(fail(profile.name, `file ${file}`, e instanceof WithSecretsError ? e : new WithSecretsError('io', `${file}: not found`, { hint: 'check the path in the config' })));
    }
  }
  return out;
}

/**
 * Runs every check: the config loads and validates; per profile, its command resolves (past shims),
 * its files exist, and (unless `decrypt` is false) an identity opens every file, every MAC verifies and
 * every referenced key exists with a usable value. Decrypted values are dropped at once; nothing prompts
 * (a source that would ask for a passphrase is skipped and listed in `notes`).
 */
export async function runCheck(opts: CheckOptions): Promise<CheckReport> {
  const notes: string[] = [];
  const results: CheckResult[] = [];
  const [{ loadConfig }, { parseKeyPath }] = await Promise.all([import('../config/load-config.js'), import('../sops/key-path.js')]);
  let config: Config;
  try {
    config = await loadConfig(opts.configPath, { env: opts.env, homeDir: opts.homeDir, checkKeyPath: (k) => void parseKeyPath(k) });
  } catch (e) {
    return { config: opts.configPath, ok: false, results: [fail(undefined, 'config', e)], notes };
  }
  results.push({ check: 'config', status: 'ok' });

  const { resolveExecutable } = await import('../launch/resolve-executable.js');
  // One identity provider (and one set of readers) per distinct identities list, so each source loads once.
  const readersBySpecs = new Map<string, { readers: SecretReaders; report: () => readonly string[] }>();
  const readersFor = async (specs: readonly IdentitySpec[] | undefined) => {
    const key = JSON.stringify(specs ?? null);
    let entry = readersBySpecs.get(key);
    if (entry === undefined) {
      const [{ createIdentityProvider }, { createSecretReaders }] = await Promise.all([import('../age/sources.js'), import('../launch/secret-readers.js')]);
      const provider = createIdentityProvider({
        env: opts.env,
        homeDir: opts.homeDir,
        baseDir: dirname(config.path),
        interactive: false,
        notes: (m) => notes.push(m),
        commandTimeoutMs: opts.commandTimeoutMs ?? 10_000,
        ...(specs === undefined ? {} : { specs }),
      });
      const base = createSecretReaders({ identities: provider, readKeyring: readKeyringForCheck });
      // Each document is opened once for the whole check, whichever profiles name it.
      const opened = new Map<string, ReturnType<SecretReaders['openSops']>>();
      const readers: SecretReaders = {
        ...base,
        openSops(file, format) {
          const k = `${format ?? ''}\0${file}`;
          let p = opened.get(k);
          if (p === undefined) {
            p = base.openSops(file, format);
            opened.set(k, p);
          }
          return p;
        },
      };
      entry = { readers, report: () => provider.report() };
      readersBySpecs.set(key, entry);
    }
    return entry;
  };

  const { collectSecrets } = await import('../launch/collect-secrets.js');
  const [{ buildChildEnv }, { checkExecSize }] = await Promise.all([import('../launch/child-env.js'), import('../launch/plan-launch.js')]);
  for (const profile of config.profiles.values()) {
    const command = profile.command ?? profile.name;
    let executable: string | undefined;
    try {
      executable = resolveExecutable(command, { pathEnv: opts.env['PATH'], cwd: opts.cwd, skipRealPaths: opts.selfPaths }).path;
      results.push({ profile: profile.name, check: 'command', status: 'ok', message: executable });
    } catch (e) {
      if (profile.command === undefined && e instanceof WithSecretsError && e.code === 'command-not-found') {
        // Without `command:` the profile may be meant for `with-secrets run --profile NAME -- CMD` only.
        results.push({
          profile: profile.name,
          check: 'command',
          status: 'skip',
          message: `no command: and no ${profile.name} on PATH: \`with-secrets ${profile.name}\` would fail; \`with-secrets run --profile ${profile.name} -- CMD\` works`,
        });
      } else {
        results.push(fail(profile.name, 'command', e));
      }
    }
    const files = checkFiles(profile);
    results.push(...files);
    if (!opts.decrypt) {
      results.push({ profile: profile.name, check: 'secrets', status: 'skip', message: 'not decrypted (--no-decrypt)' });
      continue;
    }
    const missing = new Set(files.filter((r) => r.status === 'fail').map((r) => r.check.slice('file '.length)));
    const { readers } = await readersFor(profile.identities ?? config.identities);
    // The values are computed only to be checked: held until the profile's environment is built, then dropped.
    const values: Awaited<ReturnType<typeof collectSecrets>> = [];
    let complete = true;
    const one = async (check: string, sub: Profile, file: string | undefined) => {
      if (file !== undefined && missing.has(file)) {
        complete = false;
        results.push({ profile: profile.name, check, status: 'skip', message: `${file} is missing` });
        return;
      }
      try {
        values.push(...(await withTimeout(collectSecrets(sub, readers), opts.profileTimeoutMs ?? 30_000, `opening the secrets of ${check} in profile ${profile.name}`)));
        results.push({ profile: profile.name, check, status: 'ok' });
      } catch (e) {
        complete = false;
        results.push(fail(profile.name, check, e));
      }
    };
    for (const src of profile.envFrom) await one(`envFrom ${src.file}`, { ...profile, env: [], envFrom: [src] }, src.file);
    for (const binding of profile.env) {
      if (binding.ref.kind === 'keyring') {
        results.push({ profile: profile.name, check: binding.name, status: 'skip', message: `keyring entry ${binding.ref.name} is read at launch only` });
        continue;
      }
      await one(binding.name, { ...profile, env: [binding], envFrom: [] }, refFile(binding.ref));
    }
    if (complete && values.length > 0) {
      // What the launch checks next: a value an environment variable cannot hold (NUL), and the system's size limits.
      try {
        const built = buildChildEnv({ parentEnv: opts.env, secrets: values, pristine: profile.pristine, keepExisting: false, keepEnv: profile.keepEnv });
        const file = executable ?? command;
        checkExecSize({ file, argv: [file], env: built.env }, process.platform);
        results.push({ profile: profile.name, check: 'environment', status: 'ok' });
      } catch (e) {
        results.push(fail(profile.name, 'environment', e));
      }
    }
    values.length = 0;
  }
  for (const { report } of readersBySpecs.values()) notes.push(...report());
  return { config: config.path, ok: results.every((r) => r.status !== 'fail'), results, notes: [...new Set(notes)] };
}

/** Keyring tokens are not read by check (an unlock prompt could appear); the caller never reaches this. */
async function readKeyringForCheck(name: string): Promise<string> {
  throw new WithSecretsError('keyring-unavailable', `keyring entry ${name} is not read by check`);
}
