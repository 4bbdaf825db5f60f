// The bin's first module: runs the bundled CLI (src/cli/main.ts as CommonJS; a launch-only bundle for launches) with a V8 code cache.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PARSE_CACHE_SUBDIR } from '../fs/cache-layout.js';
import { runWithCodeCache, privateCacheDir } from './code-cache.js';
import { enableCompileCache } from './compile-cache.js';
import { routeArgs } from './route.js';

// As in main.ts, and before anything else: on Node 20 an unhandled SIGUSR1 opens the inspector.
process.on('SIGUSR1', () => {});

// The launch path reaches built-ins through process.getBuiltinModule (Node 20.16, 22.3): say so plainly on an older Node.
if (typeof process.getBuiltinModule !== 'function') {
  process.stderr.write(`with-secrets: needs Node.js 20.16 or later (this is ${process.version}); upgrade Node, or use Node 22\n`);
  process.exit(125);
}

const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
// node:os only without HOME, a launch otherwise never loads it; unset or empty (os.homedir would return an empty one as it is).
const home = process.env['HOME'] || process.getBuiltinModule('node:os').userInfo().homedir;
/** The SHA-256 of each bundle, put here by the build (scripts/build.mjs); empty when run unbundled. */
declare const __WS_MAIN_SHA256__: string | undefined;
declare const __WS_LAUNCH_SHA256__: string | undefined;
// A launch runs the launch-only bundle: a smaller source to read and a smaller code cache to deserialise
// (perf, issue 7). Everything else runs the whole CLI. Each has its own code cache entry, so a first
// `--help` does not leave launches uncached. route.ts is the same decision cli.ts takes.
const launch = routeArgs(process.argv.slice(2)).kind === 'launch';
// Node's own compile cache (≥ 22.1) covers what is loaded through its loaders: the vendor bundles,
// which a launch never loads.
if (!launch) enableCompileCache(process.env, home, uid);
const buildId = launch ? (typeof __WS_LAUNCH_SHA256__ === 'string' ? __WS_LAUNCH_SHA256__ : '') : typeof __WS_MAIN_SHA256__ === 'string' ? __WS_MAIN_SHA256__ : '';
// The bundle files sit beside this one; the build script names them (see scripts/build.mjs).
// Built, this file is CommonJS with a __filename; a path join spares a launch the URL parser.
const here = typeof __filename === 'string' ? dirname(__filename) : dirname(fileURLToPath(import.meta.url));
const main = join(here, launch ? 'with-secrets-launch.cjs' : 'with-secrets-main.cjs');
// This file is CommonJS when built (dist/with-secrets.js, beside the bundles), so its own require serves them.
const dir = privateCacheDir(process.env, home, uid);
runWithCodeCache(main, {
  dir,
  uid,
  buildId,
  variant: launch ? 'launch' : 'cli',
  ...(typeof require === 'function' ? { requireFromDir: require } : {}),
  // The parse cache sits beside the code cache (src/sops/parse-cache.ts): a run that fills it is not the one to cache code from.
  ...(dir === undefined ? {} : { coldPathWrites: join(dirname(dir), PARSE_CACHE_SUBDIR) }),
});
