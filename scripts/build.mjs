// Builds dist/: the bin (a small first module, the CLI as one file, heavy libraries as lazily required files) and the typed library.
//
// Layout (measured in bench/launch.mjs; perf issue 7):
//   dist/with-secrets.js       src/cli/bin.ts: turns on the V8 compile cache (Node ≥ 22.1), then imports…
//   dist/with-secrets-main.js  src/cli/main.ts and all of src/ in one file; modules that are imported
//                              dynamically in src/ are initialised only when first used.
//   dist/vendor/*.cjs          yaml, commander, age-encryption, each one CommonJS file, `require`d only by
//                              the code that uses them, so a launch never loads (or even parses) them.
// One file instead of dozens of chunks saves the ESM loader's per-module cost on every launch.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';

/** npm packages that only some commands need: bundled apart and loaded with `require` when first used. */
const VENDOR = ['yaml', 'commander', 'age-encryption'];

// dist/ is not emptied first: several test runs may use the bin while it is rebuilt, so every file is
// replaced atomically (temp file + rename) and a running process keeps the file it opened. `--clean`
// empties it (releases).
if (process.argv.includes('--clean')) rmSync('dist', { recursive: true, force: true });

/** Writes esbuild's in-memory outputs, each file atomically. */
function writeOutputs(result) {
  for (const file of result.outputFiles) {
    mkdirSync(dirname(file.path), { recursive: true });
    const temp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temp, file.contents);
    renameSync(temp, file.path);
  }
}

const common = { bundle: true, platform: 'node', target: 'node20', legalComments: 'none', logLevel: 'warning', metafile: true, write: false };

const metas = [];
for (const pkg of VENDOR) {
  const r = await build({ ...common, entryPoints: { [pkg]: pkg }, outdir: 'dist/vendor', format: 'cjs', outExtension: { '.js': '.cjs' } });
  writeOutputs(r);
  metas.push(r.metafile);
}

/** Replaces each vendor package by a CommonJS stub that `require`s its bundle, so the import stays lazy. */
const vendorStubs = {
  name: 'vendor-stubs',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${VENDOR.join('|')})$`) }, (a) => ({ path: a.path, namespace: 'vendor' }));
    b.onLoad({ filter: /.*/, namespace: 'vendor' }, (a) => ({ contents: `module.exports = require(${JSON.stringify(`./vendor/${a.path}.cjs`)});`, loader: 'js' }));
    b.onResolve({ filter: /^\.\/vendor\// }, (a) => ({ path: a.path, external: true }));
  },
};
const main = await build({
  ...common,
  entryPoints: { 'with-secrets-main': 'src/cli/main.ts' },
  outdir: 'dist',
  format: 'esm',
  splitting: false,
  // The vendor stubs and keytar use `require`: give the ESM bundle one, relative to dist/.
  banner: { js: "import { createRequire as __wsCreateRequire } from 'node:module';\nconst require = __wsCreateRequire(import.meta.url);" },
  external: ['keytar'],
  plugins: [vendorStubs],
});
writeOutputs(main);
metas.push(main.metafile);

/** bin.ts loads main.ts: point that import at the main bundle instead of bundling it again. */
const mainExternal = {
  name: 'main-external',
  setup(b) {
    b.onResolve({ filter: /^\.\/main\.js$/ }, () => ({ path: './with-secrets-main.js', external: true }));
  },
};
const bin = await build({
  ...common,
  entryPoints: { 'with-secrets': 'src/cli/bin.ts' },
  outdir: 'dist',
  format: 'esm',
  banner: { js: '#!/usr/bin/env node' },
  plugins: [mainExternal],
});
writeOutputs(bin);
metas.push(bin.metafile);
chmodSync('dist/with-secrets.js', 0o755);

// Which sources went into which file: the lazy-loading test checks the launch path against it.
const merged = { inputs: {}, outputs: {} };
for (const m of metas) {
  Object.assign(merged.inputs, m.inputs);
  for (const [out, v] of Object.entries(m.outputs)) merged.outputs[relative('.', out)] = v;
}
mkdirSync('.cache', { recursive: true });
writeFileSync('.cache/build-meta.json', JSON.stringify(merged));

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
