// Benchmark fixtures: an age key, sops YAML files (10 secrets, 1,000 keys, ~10 MB), a JSON config, a dotenvx .env.
// The sops files are written by the project's own writer (the tsc build in dist/lib), to a fresh X25519 key.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A random printable token of `n` characters (the shape of an API key). */
const token = (n) => randomBytes(n).toString('base64url').slice(0, n);

/** A one-document tree of `count` top-level keys `secret_NNNNN` with values of `valueLength` chars. */
function secretsTree(count, valueLength) {
  const items = [];
  for (let i = 0; i < count; i++) {
    items.push({ type: 'entry', key: `secret_${String(i).padStart(5, '0')}`, value: { type: 'str', value: token(valueLength) } });
  }
  return [{ type: 'map', items }];
}

/** The profile's env: ten variables from ten keys spread over the file. */
function tenFrom(file, count) {
  const env = {};
  for (let i = 0; i < 10; i++) {
    const k = Math.floor((i * count) / 10);
    env[`SECRET_${i}`] = { sops: file, key: `secret_${String(k).padStart(5, '0')}` };
  }
  return env;
}

const human = (bytes) => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.round(bytes / 1e3)} KB`);

/**
 * Makes every fixture under `dir` and returns their paths. `lib` is the built library (dist/lib),
 * `dotenvx` the dotenvx CLI script, `env` the environment to run tools with.
 */
export async function makeFixtures(dir, { lib: libDir, dotenvx, env }) {
  const lib = (p) => import(pathToFileURL(join(libDir, p)).href);
  const { encryptNewDocument } = await lib('sops/save.js');
  const { loadStore } = await lib('sops/stores/index.js');
  const { parseMetadata } = await lib('sops/metadata.js');

  const home = join(dir, 'home');
  const cacheHome = join(dir, 'cache');
  mkdirSync(join(home, '.config'), { recursive: true });
  const keyFile = join(dir, 'key.txt');
  execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore', env });
  const recipient = readFileSync(keyFile, 'utf8').match(/public key: (age1\S+)/)[1];

  const write = async (name, count, valueLength) => {
    const path = join(dir, name);
    const spec = { branches: secretsTree(count, valueLength), keyGroups: [[recipient]] };
    let text;
    try {
      text = await encryptNewDocument(path, { ...spec, format: 'yaml' });
    } catch {
      // Until the YAML writer exists: the same tree written as JSON, re-printed as double-quoted YAML
      // (so no value can change type); the MAC covers values and order, not the syntax.
      const json = await encryptNewDocument(path, { ...spec, format: 'json' });
      const { stringify } = await import('yaml');
      text = stringify(JSON.parse(json), { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0 });
    }
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  const ten = await write('ten.yaml', 10, 40);
  const thousand = await write('thousand.yaml', 1000, 8);
  // About 10 MB: 40,000 keys of 100-character values (each line of ciphertext is ~250 bytes).
  const big = await write('big.yaml', 40_000, 96);

  // The config as Home Manager writes it: JSON.
  const config = join(dir, 'config.json');
  const profiles = { ten: { env: tenFrom(ten, 10) }, thousand: { env: tenFrom(thousand, 1000) }, big: { env: tenFrom(big, 40_000) } };
  writeFileSync(config, JSON.stringify({ version: 1, identities: [{ file: keyFile }], profiles }, null, 2));

  // The data key of ten.yaml, as its own armored age file, for `age -d`.
  const loaded = await loadStore('yaml', readFileSync(ten, 'utf8'), ten);
  const ageFile = join(dir, 'datakey.age');
  writeFileSync(ageFile, parseMetadata(loaded.metadata, ten).keyGroups[0].age[0].enc);

  // dotenvx: the same ten secrets in a .env, encrypted in place by `dotenvx encrypt` (keys in .env.keys).
  const dotenvDir = join(dir, 'dotenvx');
  mkdirSync(dotenvDir);
  const dotenv = join(dotenvDir, '.env');
  writeFileSync(dotenv, Array.from({ length: 10 }, (_, i) => `SECRET_${i}="${token(40)}"\n`).join(''));
  execFileSync(process.execPath, [dotenvx, 'encrypt', '-f', dotenv], { cwd: dotenvDir, env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (!readFileSync(dotenv, 'utf8').includes('encrypted:')) throw new Error('dotenvx encrypt did not encrypt the .env');

  // Cache homes that disable caches: `parsed` is a regular file (no parse cache, the code cache works),
  // or the cache home itself is a regular file (no cache at all: every run is a first run).
  const noParseCacheHome = join(dir, 'cache-no-parse');
  mkdirSync(join(noParseCacheHome, 'with-secrets'), { recursive: true, mode: 0o700 });
  writeFileSync(join(noParseCacheHome, 'with-secrets', 'parsed'), '');
  const noCacheHome = join(dir, 'cache-none');
  writeFileSync(noCacheHome, '');

  const bytes = { ws10: statSync(ten).size, ws1000: statSync(thousand).size, ws10mb: statSync(big).size, ws10noparse: statSync(ten).size, ws10cold: statSync(ten).size };
  return {
    dir,
    home,
    cacheHome,
    noParseCacheHome,
    noCacheHome,
    keyFile,
    config,
    ageFile,
    dotenv,
    dotenvDir,
    bytes,
    sizes: { thousand: human(bytes.ws1000), big: human(bytes.ws10mb) },
  };
}
