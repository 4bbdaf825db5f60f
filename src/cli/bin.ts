// The bin's first module: runs the bundled CLI (src/cli/main.ts as one CommonJS file) with a V8 code cache.
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runWithCodeCache, privateCacheDir } from './code-cache.js';
import { enableCompileCache } from './compile-cache.js';
import { isSubcommand } from './subcommands.js';

// As in main.ts, and before anything else: on Node 20 an unhandled SIGUSR1 opens the inspector.
process.on('SIGUSR1', () => {});

const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
const home = process.env['HOME'] || homedir();
// Node's own compile cache (≥ 22.1) covers what is loaded through its loaders: the vendor bundles.
enableCompileCache(process.env, home, uid);
/** The SHA-256 of the bundle, put here by the build (scripts/build.mjs); empty when run unbundled. */
declare const __WS_MAIN_SHA256__: string | undefined;
const buildId = typeof __WS_MAIN_SHA256__ === 'string' ? __WS_MAIN_SHA256__ : '';
/**
 * A launch (`with-secrets [OPTIONS] CMD …`, `run -- CMD`) or another command, roughly as cli.ts decides:
 * each kind gets its own code cache entry, so a first `--help` does not leave launches uncached.
 */
function runKind(args: readonly string[]): 'launch' | 'cli' {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h' || a === '--help' || a === '-V' || a === '--version') return 'cli';
    if (a === '-c' || a === '--config' || a === '-p' || a === '--profile') i++;
    else if (a === '--' || !a.startsWith('-')) return a === 'run' || a === '--' || !isSubcommand(a) ? 'launch' : 'cli';
  }
  return 'cli';
}
// The bundle file sits beside this one; the build script names it (see scripts/build.mjs).
const main = fileURLToPath(new URL('./with-secrets-main.cjs', import.meta.url));
runWithCodeCache(main, privateCacheDir(process.env, home, uid), uid, buildId, runKind(process.argv.slice(2)));
