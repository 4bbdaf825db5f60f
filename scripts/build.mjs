// Builds dist/: the bundled bin (one entry plus lazily loaded chunks) and the typed library.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';

// dist/ is not emptied first: several test runs may use the bin while it is rebuilt, and chunk names
// are content hashes, so stale chunks are harmless. `--clean` empties it (releases).
if (process.argv.includes('--clean')) rmSync('dist', { recursive: true, force: true });
const result = await build({
  entryPoints: { 'with-secrets': 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.js' },
  chunkNames: 'chunks/[name]-[hash]',
  // commander is CommonJS: give the ESM chunks a `require` for its node: built-ins.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __wsCreateRequire } from 'node:module';\nconst require = __wsCreateRequire(import.meta.url);" },
  external: ['keytar'],
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});
// Which sources went into which chunk: the lazy-loading test checks the launch path against it.
mkdirSync('.cache', { recursive: true });
writeFileSync('.cache/build-meta.json', JSON.stringify(result.metafile));
chmodSync('dist/with-secrets.js', 0o755);
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
