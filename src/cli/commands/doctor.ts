// `with-secrets doctor`: which identity sources exist, what each yields, which files each opens; never key material.
import { dirname, resolve } from 'node:path';
import type { Identity } from 'age-encryption';
import { WithSecretsError, isWithSecretsError } from '../../errors.js';
import { homeDirOf, type CliContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { exitWith } from '../outcome.js';
import type { RegisterCommand } from './index.js';

/** A recipient for display: post-quantum ones are ~2000 characters, so only their ends are shown. */
function shortRecipient(r: string): string {
  return r.length > 100 ? `${r.slice(0, 40)}…${r.slice(-12)} (${r.length} characters)` : r;
}

interface DoctorFlags {
  unlock?: boolean;
}

/** One identity source as doctor found it. */
interface SourceFinding {
  readonly label: string;
  readonly identities: readonly Identity[];
  readonly recipients: readonly string[];
}

/** The config, if there is one; a missing config is fine unless it was named. */
async function optionalConfig(ctx: CliContext, flag: string | undefined) {
  const { loadConfig, locateConfig } = await import('../../config/load-config.js');
  const path = locateConfig({ flag, env: ctx.env, homeDir: homeDirOf(ctx), cwd: ctx.cwd });
  const named = (flag ?? '') !== '' || (ctx.env['WITH_SECRETS_CONFIG'] ?? '') !== '';
  try {
    return await loadConfig(path, { env: ctx.env, homeDir: homeDirOf(ctx) });
  } catch (e) {
    if (!named && isWithSecretsError(e, 'config-invalid') && /^no config file at /.test(e.message)) return undefined;
    throw e;
  }
}

/** Registers `doctor`. */
export const registerDoctor: RegisterCommand = (program, state) => {
  program
    .command('doctor')
    .summary('show where age identities come from, what they open, and unsafe key files')
    .description(
      'check where age identities come from: each source in the order they are tried, the recipients it yields,\n' +
        'unsafe key file permissions, the OS keyring identities, and which SOPS files (from the config, and FILEs) each source opens.\n' +
        'Never prints key material. Exit 1 when a source failed, no identity was found, or a file cannot be opened',
    )
    .argument('[files...]', 'more SOPS files to check')
    .option('--unlock', 'ask for passphrases of protected identity files (default: report them as skipped)')
    .action(async (files: string[], flags: DoctorFlags) => {
      const { ctx } = state;
      const out = (line: string) => ctx.stdout.write(`${line}\n`);
      const globals = program.opts<{ config?: string }>();
      const config = await optionalConfig(ctx, globals.config);
      const warnings: string[] = [];
      let problems = 0;

      // Identity sources, all of them (a launch stops at the first that opens the file).
      const { createIdentityProvider } = await import('../../age/sources.js');
      const { isDescribedIdentity } = await import('../../age/age-key-identity.js');
      const provider = createIdentityProvider({
        env: ctx.env,
        homeDir: homeDirOf(ctx),
        ...(config?.identities === undefined ? {} : { specs: config.identities, baseDir: dirname(config.path) }),
        interactive: Boolean(flags.unlock),
        notes: (m) => warnings.push(m.replace(/^warning: /, '')),
      });
      const found: SourceFinding[] = [];
      for await (const s of provider.sources()) {
        const recipients = await Promise.all(s.identities.map((i) => (isDescribedIdentity(i) ? i.recipient() : Promise.resolve('(unknown recipient)'))));
        found.push({ label: s.label, identities: s.identities, recipients });
      }
      out(`config: ${config ? config.path : 'none'}`);
      out('identity sources (in the order they are tried):');
      for (const line of provider.report()) {
        out(`  ${line}`);
        const f = found.find((x) => line.startsWith(`${x.label}: `));
        for (const r of f?.recipients ?? []) out(`      ${shortRecipient(r)}`);
      }
      problems += provider.failures().length;
      if (found.length === 0) {
        out('  no identity found');
        problems++;
      }

      // Keyring identities from the index; one unavailable/locked answer stops the walk (each call may take 3 s).
      const { readIdentityIndex, identityIndexPath, readKeyringIdentity } = await import('../../keyring/identity-store.js');
      const index = await readIdentityIndex(ctx.env, homeDirOf(ctx));
      if (index.length > 0) {
        out(`OS keyring identities (index ${identityIndexPath(ctx.env, homeDirOf(ctx))}):`);
        const { parseIdentityContent } = await import('../../age/identity-content.js');
        let blocked: WithSecretsError | undefined;
        for (const entry of index) {
          if (blocked) {
            out(`  ${entry.name}: not checked (${blocked.code})`);
            continue;
          }
          try {
            const ids = await parseIdentityContent(await readKeyringIdentity(entry.name, { env: ctx.env }), `keyring: ${entry.name}`, {
              interactive: Boolean(flags.unlock),
              askPassphrase: async (p) => (await import('../../age/tty-prompt.js')).promptHidden(p),
              notes: (m) => warnings.push(m),
            });
            const recipients = await Promise.all(ids.map((i) => i.recipient()));
            const same = recipients.length === entry.recipients.length && recipients.every((r) => entry.recipients.includes(r));
            out(`  ${entry.name}: in the keyring${same ? '' : ' (its recipients differ from the index)'}`);
            for (const r of recipients) out(`      ${shortRecipient(r)}`);
          } catch (e) {
            if (!(e instanceof WithSecretsError)) throw e;
            out(`  ${entry.name}: ${e.message.replace(`keyring: ${entry.name}: `, '')}`);
            problems++;
            if (e.code === 'keyring-unavailable' || e.code === 'keyring-locked') {
              blocked = e;
              if (e.hint) out(`      hint: ${e.hint}`);
            }
          }
        }
      }

      // Files: the config's sops files and the ones named; which source opens each.
      const paths = new Set<string>();
      if (config) {
        if (config.sopsFile) paths.add(config.sopsFile);
        for (const p of config.profiles.values()) {
          // A path this environment cannot expand is the profile's problem (check reports it), not a file to open.
          for (const b of p.env) if (b.ref.kind === 'sops' && b.ref.unavailable === undefined) paths.add(b.ref.file);
          for (const f of p.envFrom) if (f.unavailable === undefined) paths.add(f.file);
        }
      }
      for (const f of files) paths.add(resolve(ctx.cwd, f));
      if (paths.size > 0) {
        out('files:');
        const { readFile } = await import('node:fs/promises');
        const { formatFromPath, loadStore } = await import('../../sops/stores/index.js');
        const { parseMetadata } = await import('../../sops/metadata.js');
        const { openAgeArmor } = await import('../../sops/data-key.js');
        for (const path of paths) {
          try {
            const store = await loadStore(formatFromPath(path), await readFile(path, 'utf8'), path);
            if (!store.metadata) throw new WithSecretsError('malformed', 'not a sops file');
            const meta = parseMetadata(store.metadata, path);
            const openers: string[] = [];
            const all = meta.keyGroups.flatMap((g) => g.age);
            for (const s of found) {
              for (const k of all) {
                const r = await openAgeArmor(k.enc, s.identities);
                if (r instanceof Uint8Array) {
                  r.fill(0);
                  openers.push(`${s.label} (${shortRecipient(k.recipient)})`);
                  break;
                }
              }
            }
            if (openers.length > 0) out(`  ${path}: opened by ${openers.join('; ')}`);
            else {
              problems++;
              out(`  ${path}: no identity found opens it; its recipients: ${all.map((k) => shortRecipient(k.recipient)).join(', ') || '(no age recipients)'}`);
            }
            if (meta.keyGroups.length > 1) out(`      ${meta.keyGroups.length} key groups (Shamir threshold ${meta.shamirThreshold || meta.keyGroups.length}): each group needs one opener`);
          } catch (e) {
            problems++;
            const msg = e instanceof WithSecretsError ? e.message.replace(`${path}: `, '') : 'cannot be read';
            out(`  ${path}: ${msg}`);
          }
        }
      }

      if (warnings.length > 0) {
        out('warnings:');
        for (const w of warnings) out(`  ${w}`);
      }
      out(problems === 0 ? 'ok' : `${problems} problem${problems === 1 ? '' : 's'} found`);
      state.outcome = exitWith(problems === 0 ? EXIT.ok : EXIT.checkFailed);
    });
};
