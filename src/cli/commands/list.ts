// `with-secrets list`: the profiles of the config and the variables each one sets (names and sources, never values).
import type { Command } from 'commander';
import type { RegisterCommand } from './index.js';
import { homeDirOf } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { exitWith } from '../outcome.js';

/** Registers `list`. */
export const registerList: RegisterCommand = (program, state) => {
  program
    .command('list')
    .description('list the profiles and the variables each one sets (names and sources, never values)')
    .option('--json', 'print JSON: [{name, command, env: [{name, source}], envFrom: [file]}]')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ config?: string; verbose?: boolean; json?: boolean }>();
      const { ctx } = state;
      const homeDir = homeDirOf(ctx);
      const [{ loadConfig, locateConfig }, { describeRef }] = await Promise.all([import('../../config/load-config.js'), import('../../launch/collect-secrets.js')]);
      const { parseKeyPath } = await import('../../sops/key-path.js');
      const config = await loadConfig(locateConfig({ flag: opts.config, env: ctx.env, homeDir, cwd: ctx.cwd }), { env: ctx.env, homeDir, checkKeyPath: (k) => void parseKeyPath(k) });
      const profiles = [...config.profiles.values()].map((p) => ({
        name: p.name,
        command: p.command ?? null,
        env: p.env.map((b) => ({ name: b.name, source: describeRef(b.ref) })),
        envFrom: p.envFrom.map((f) => f.file),
      }));
      if (opts.json) {
        ctx.stdout.write(`${JSON.stringify(profiles, null, 2)}\n`);
      } else if (profiles.length === 0) {
        ctx.stdout.write(`no profiles in ${config.path}\n`);
      } else {
        let out = '';
        for (const p of profiles) {
          out += `${p.name}${p.command === null ? '' : `  (runs ${p.command})`}\n`;
          for (const e of p.env) out += `  ${e.name}${opts.verbose ? `  <- ${e.source}` : ''}\n`;
          for (const f of p.envFrom) out += `  every top-level key of ${f}\n`;
        }
        ctx.stdout.write(out);
      }
      state.outcome = exitWith(EXIT.ok);
    });
};
