// Builds dist/: the bin (a small first module, the CLI as one file, heavy libraries as lazily required files) and the typed library.
//
// Layout (measured with bench/launch.mjs; perf issue 7):
//   dist/with-secrets.js        src/cli/bin.ts (CommonJS): runs the next file through vm.Script with a V8 code cache
//                               kept in $XDG_CACHE_HOME/with-secrets/v8, so a launch compiles almost nothing.
//   dist/with-secrets-main.cjs  src/cli/main.ts and all of src/ as one CommonJS file; modules that src/ imports
//                               dynamically are initialised only when first used. Runs every command but a launch.
//   dist/with-secrets-launch.cjs the same without the commander program and the subcommands (~250 KB instead of
//                               ~430 KB): what a launch runs, so it reads and deserialises less (~1 ms).
//   dist/vendor/*.cjs           yaml, commander, age-encryption, one CommonJS file each, `require`d only by the
//                               code that uses them, so a launch never loads (or even parses) them.
// One file instead of dozens of ESM chunks also saves the ESM loader's per-module cost on every launch.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
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

/** What `import.meta.url` becomes in the CommonJS files: this file's URL, computed on first use. */
const IMPORT_META_URL = "const __ws = { get importMetaUrl() { return require('node:url').pathToFileURL(__filename).href; } };";

const common = { bundle: true, platform: 'node', target: 'node20', legalComments: 'none', logLevel: 'warning', metafile: true, write: false };

const metas = [];
for (const pkg of VENDOR) {
  const r = await build({ ...common, entryPoints: { [pkg]: pkg }, outdir: 'dist/vendor', format: 'cjs', outExtension: { '.js': '.cjs' } });
  writeOutputs(r);
  metas.push(r.metafile);
}

/**
 * Keeps every `import()` out of the CommonJS bundle (code run by vm.Script cannot use it without a
 * flag): vendor packages and dynamically imported built-ins become small CommonJS modules that
 * `require` them, which esbuild initialises lazily where the source had `await import(…)`.
 */
const requireStubs = {
  name: 'require-stubs',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${VENDOR.join('|')})$`) }, (a) => ({ path: `./vendor/${a.path}.cjs`, namespace: 'require-stub' }));
    b.onResolve({ filter: /^node:/ }, (a) => (a.kind === 'dynamic-import' ? { path: a.path, namespace: 'require-stub' } : { path: a.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'require-stub' }, (a) => ({ contents: `module.exports = require(${JSON.stringify(a.path)});`, loader: 'js' }));
    b.onResolve({ filter: /^\.\/vendor\// }, (a) => ({ path: a.path, external: true }));
  },
};
/**
 * The launch bundle leaves out the commander program and every subcommand: cli.ts's `import('./program.js')`
 * becomes a module that fails loudly, a path the bin never takes (it runs this bundle only for the
 * routes src/cli/route.ts calls launches).
 */
const launchOnly = {
  name: 'launch-only',
  setup(b) {
    b.onResolve({ filter: /^\.\/program\.js$/ }, (a) => (/src\/cli\/cli\.ts$/.test(a.importer) ? { path: 'program', namespace: 'launch-only' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'launch-only' }, () => ({
      contents: "exports.runProgram = () => { throw new Error('with-secrets-launch.cjs has no subcommands: the bin chose the wrong bundle'); };",
      loader: 'js',
    }));
  },
};
/**
 * The bundle as pure ASCII: esbuild escapes strings and regexes, but the comments it keeps (TSDoc
 * of class members) may hold characters like `…`. One such character makes V8 hold the whole
 * 430 KB source as a two-byte string and decode it the slow way on every launch (perf, issue 7;
 * ~1-2 ms). A \uXXXX escape means the same in code and is inert in a comment.
 */
const asciiOnly = (file) => ({ path: file.path, contents: Buffer.from(file.text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)) });
/**
 * The bundle inside the wrapper Node's CommonJS loader puts around a file, as src/cli/code-cache.ts
 * expects it (COMMONJS_WRAPPER_HEAD there; a test checks they agree): the bin hands the file to V8
 * as it is, instead of copying 250 KB into a wrapped string on every launch.
 */
const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const wrapped = (file) => ({ path: file.path, contents: Buffer.concat([Buffer.from(WRAPPER_HEAD), file.contents, Buffer.from('\n});')]) });
/** Bundles src/cli/main.ts as the CommonJS file dist/NAME.cjs; returns its SHA-256 (the code cache key). */
async function buildCli(name, plugins) {
  const r = await build({
    ...common,
    entryPoints: { [name]: 'src/cli/main.ts' },
    outdir: 'dist',
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    // import.meta.url of the sources (keytar lookup, the shell/ folder) is the bundle's own URL, made
    // when first asked for: a launch never asks, and a URL costs its parser's first use.
    banner: { js: IMPORT_META_URL },
    define: { 'import.meta.url': '__ws.importMetaUrl' },
    external: ['keytar'],
    plugins: [requireStubs, ...plugins],
  });
  const files = r.outputFiles.map((f) => (f.path.endsWith('.cjs') ? wrapped(asciiOnly(f)) : f));
  const cjs = files.find((f) => f.path.endsWith('.cjs'));
  if (/\bimport\(/.test(Buffer.from(cjs.contents).toString())) {
    throw new Error(`dist/${name}.cjs still contains import(): vm.Script cannot run it without a flag`);
  }
  writeOutputs({ outputFiles: files });
  metas.push(r.metafile);
  return createHash('sha256').update(cjs.contents).digest('hex');
}
// dist/with-secrets-main.cjs: the whole CLI; dist/with-secrets-launch.cjs: what a launch runs (~half the size).
const mainSha256 = await buildCli('with-secrets-main', []);
const launchSha256 = await buildCli('with-secrets-launch', [launchOnly]);
// The bin is CommonJS too (dist/package.json says so; dist/lib keeps ESM with its own package.json):
// starting Node's ESM loader costs about a fifth of a bare `node -e 0`.
const bin = await build({
  ...common,
  entryPoints: { 'with-secrets': 'src/cli/bin.ts' },
  outdir: 'dist',
  format: 'cjs',
  banner: { js: `#!/usr/bin/env node\n${IMPORT_META_URL}` },
  // The code cache is keyed by the bundle's content: V8 itself only compares the source's length.
  define: { 'import.meta.url': '__ws.importMetaUrl', __WS_MAIN_SHA256__: JSON.stringify(mainSha256), __WS_LAUNCH_SHA256__: JSON.stringify(launchSha256) },
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
// The bin files are CommonJS; the library (tsc output) is ESM, as the root package.json says.
writeFileSync('dist/package.json', '{ "type": "commonjs" }\n');
writeFileSync('dist/lib/package.json', '{ "type": "module" }\n');
