// `with-secrets check [--json] [--no-decrypt]`: reports, by name and never by value, whether every profile will get its secrets.
import type { Command } from 'commander';
import { homeDirOf } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { exitWith } from '../outcome.js';
import type { RegisterCommand } from './index.js';

/** Registers `check`. */
export const registerCheck: RegisterCommand = (program, state) => {
  program
    .command('check')
    .description('check that every profile will get its secrets; prints names and problems, never a value')
    .addHelpText(
      'after',
      `
It checks that the config is valid, that every file it names exists, that an identity opens every
SOPS or age file (data key and MAC), that every referenced key exists with a usable value, that the
values fit in an environment (no NUL byte, within the system's size limits), and that every profile's
command resolves on PATH (past with-secrets shims); a profile without command: whose name is not on
PATH is reported as skipped, since \`with-secrets run --profile NAME -- CMD\` still works. It never
prompts: an identity that needs a passphrase or a touch is skipped and reported, and every source has a
time limit.
--verbose lists what passed and the identity sources tried.

Exit status: 0 when every check passed, 1 when one failed (the report names the profile).`,
    )
    .option('--json', 'print the report as JSON: {config, ok, results: [{profile, check, status, message, hint}], notes}')
    .option('--no-decrypt', 'check the config, files and commands only; open no file')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ config?: string; verbose?: boolean; json?: boolean; decrypt: boolean }>();
      const { ctx } = state;
      const homeDir = homeDirOf(ctx);
      const [{ locateConfig }, { runCheck }, { realpathSync }] = await Promise.all([
        import('../../config/load-config.js'),
        import('../../check/run-check.js'),
        import('node:fs'),
      ]);
      const selfPaths: string[] = [];
      try {
        if (ctx.selfPath !== undefined) selfPaths.push(realpathSync(ctx.selfPath));
      } catch {
        /* started from a path that is gone: nothing to skip */
      }
      const report = await runCheck({
        configPath: locateConfig({ flag: opts.config, env: ctx.env, homeDir, cwd: ctx.cwd }),
        env: ctx.env,
        homeDir,
        cwd: ctx.cwd,
        decrypt: opts.decrypt,
        selfPaths,
      });
      if (opts.json) {
        ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        let out = `config ${report.config}\n`;
        for (const r of report.results) {
          if (r.status === 'ok' && !opts.verbose) continue;
          const label = r.status === 'ok' ? 'ok  ' : r.status === 'skip' ? 'skip' : 'FAIL';
          out += `${label}  ${r.profile === undefined ? '' : `${r.profile}: `}${r.check}${r.message === undefined ? '' : ` — ${r.message}`}\n`;
          if (r.hint !== undefined && r.status === 'fail') out += `      hint: ${r.hint}\n`;
        }
        if (opts.verbose) for (const n of report.notes) out += `note  ${n}\n`;
        const failed = [...new Set(report.results.filter((r) => r.status === 'fail').map((r) => r.profile ?? 'config'))];
        const profiles = new Set(report.results.map((r) => r.profile).filter((p) => p !== undefined)).size;
        out += failed.length === 0 ? `ok: ${profiles} profile${profiles === 1 ? '' : 's'} checked\n` : `problems in: ${failed.join(', ')}\n`;
        ctx.stdout.write(out);
      }
      state.outcome = exitWith(report.ok ? EXIT.ok : EXIT.checkFailed);
    });
};
