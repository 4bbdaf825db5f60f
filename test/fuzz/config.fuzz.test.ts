// Fuzz: the with-secrets config (loadConfig: JSON fast path, YAML, validation), `.sops.yaml` creation rules, and key paths.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { loadCreationRule, loadStoreIndent, pickCreationRule } from '../../src/sops/creation-rules.js';
import { formatKeyPath, lookupPath, parseKeyPath } from '../../src/sops/key-path.js';
import type { MapNode, Node } from '../../src/sops/tree.js';
import { REPO_ROOT } from '../helpers/built-cli.js';
import { budget, fuzz, runs } from './fuzz-harness.js';
import { mutate, mutationsArb, tokenText } from './mutate.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-fuzz-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { HOME: dir, XDG_CONFIG_HOME: join(dir, '.config'), XDG_RUNTIME_DIR: join(dir, 'run') };

const EXAMPLE = readFileSync(join(REPO_ROOT, 'examples/config.yaml'));
const SMALL = Buffer.from(`version: 1
sopsFile: ~/.config/with-secrets/secrets.yaml
identities:
  - file: ~/.config/sops/age/keys.txt
profiles:
  codex:
    command: /usr/bin/codex
    env:
      OPENAI_API_KEY: openai.api_key
      B: '["a"]["b"][0]'
  gh:
    env:
      GITHUB_TOKEN: { sops: ~/x/github.yaml, key: token }
      T: { age: $XDG_RUNTIME_DIR/t.age }
      F: { file: /run/user/0/f }
      K: { keyring: gh }
  tools:
    envFrom: [ ~/.config/with-secrets/dev.env ]
    allowDangerous: [PATH]
`);
const ALIAS_BOMB = Buffer.from(`a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`);

/** A random config-shaped document (close enough to valid that validation runs deep). */
const name = fc.oneof(fc.constantFrom('codex', 'gh', 'run', 'OPENAI_API_KEY', 'PATH', 'LD_PRELOAD', 'x.y', '', '1A', 'version'), fc.string({ maxLength: 10 }));
const ref = fc.oneof(
  fc.oneof(fc.constantFrom('a.b', '["a"][0]', '..', '[', 'a..b'), fc.string({ maxLength: 20 })),
  fc.record({ sops: fc.string({ maxLength: 20 }), key: fc.string({ maxLength: 10 }) }),
  fc.record({ age: fc.string({ maxLength: 20 }) }),
  fc.record({ file: fc.constantFrom('~/f', '$HOME/f', '$XDG_RUNTIME_DIR/f', 'rel', '') }),
  fc.record({ keyring: fc.string({ maxLength: 10 }) }),
  fc.anything({ maxDepth: 2 }),
);
const profile = fc.record(
  { command: fc.oneof(fc.string(), fc.anything({ maxDepth: 1 })), env: fc.dictionary(name, ref, { maxKeys: 4 }), envFrom: fc.array(fc.string(), { maxLength: 2 }), allowDangerous: fc.array(name, { maxLength: 2 }), pristine: fc.anything({ maxDepth: 0 }), bogus: fc.anything({ maxDepth: 1 }) },
  { requiredKeys: [] },
);
const configDoc = fc.record(
  { version: fc.oneof(fc.constant(1), fc.anything({ maxDepth: 0 })), sopsFile: fc.oneof(fc.string(), fc.constant('~/s.yaml')), identities: fc.array(fc.oneof(fc.record({ file: fc.string() }), fc.record({ command: fc.array(fc.string(), { maxLength: 2 }) }), fc.anything({ maxDepth: 1 })), { maxLength: 2 }), profiles: fc.dictionary(name, profile, { maxKeys: 3 }) },
  { requiredKeys: [] },
);

let counter = 0;
/** Writes `text` to a fresh file and loads it as the config. */
async function load(text: Buffer | string) {
  const path = join(dir, `c${counter++ % 8}.yaml`);
  writeFileSync(path, text);
  return loadConfig(path, { env, homeDir: dir, checkKeyPath: (k) => void parseKeyPath(k) });
}

describe('config (fuzz)', () => {
  it('a config nested thousands of levels deep is config-invalid (found by this fuzz: an internal RangeError)', async () => {
    // One case only: after the parser's stack overflow, a second huge parse in the same worker can run out of heap (one parse per CLI process).
    for (const deep of ['- '.repeat(7_000) + 'version: 1\n' + ']'.repeat(7_000)]) {
      await fuzz({ name: 'config/deep', arb: fc.constant(deep), numRuns: 1, allowed: ['config-invalid'], run: (t) => load(t) });
    }
  });

  const n1 = runs(1_200, 200_000);
  it('loadConfig on random config-shaped documents (JSON and YAML): a config or config-invalid naming file and line', { timeout: budget(n1) }, async () => {
    const { stringify } = await import('yaml');
    await fuzz({
      name: 'config/shaped-documents',
      arb: fc.tuple(configDoc, fc.boolean()),
      numRuns: n1,
      allowed: ['config-invalid', 'usage', 'dangerous-variable', 'env-invalid'],
      run: ([doc, json]) => load(json ? JSON.stringify(doc) : stringify(doc)),
      check: (c) => expect(c).toBeTypeOf('object'),
    });
  });

  const n2 = runs(1_500, 200_000);
  it('loadConfig on mutated real configs (the shipped example, a complete one, an alias bomb) and arbitrary text', { timeout: budget(n2) }, async () => {
    await fuzz({
      name: 'config/mutated',
      arb: fc.oneof(fc.tuple(fc.constantFrom(EXAMPLE, SMALL, ALIAS_BOMB), fc.oneof(mutationsArb, fc.constant([]))).map(([b, ms]) => mutate(b, ms)), tokenText),
      numRuns: n2,
      allowed: ['config-invalid', 'usage', 'dangerous-variable', 'env-invalid', 'io'],
      run: (text) => load(text),
    });
  });
});

describe('.sops.yaml creation rules (fuzz)', () => {
  const REAL = Buffer.from(`creation_rules:
  - path_regex: \\.dev\\.yaml$
    encrypted_regex: ^(data|stringData)$
    age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
  - path_regex: secrets/.*
    key_groups:
      - age:
          - age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
    shamir_threshold: 1
  - age: >-
      age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p,
      age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
    unencrypted_suffix: _plain
    mac_only_encrypted: true
`);
  const rule = fc.record(
    {
      path_regex: fc.oneof(fc.constantFrom('.*', '(a+)+$', '(?i)x', '\\p{L}', '[', '(?P<n>a)', '\\z', '^(a|a)*$', '\\Q.\\E'), fc.string({ maxLength: 12 })),
      age: fc.oneof(fc.string({ maxLength: 30 }), fc.array(fc.string(), { maxLength: 2 })),
      encrypted_regex: fc.oneof(fc.constantFrom('^data$', '(', '(a*)*b'), fc.string({ maxLength: 8 })),
      unencrypted_suffix: fc.string({ maxLength: 5 }),
      key_groups: fc.anything({ maxDepth: 2 }),
      shamir_threshold: fc.anything({ maxDepth: 0 }),
      pgp: fc.string({ maxLength: 4 }),
    },
    { requiredKeys: [] },
  );

  it('a .sops.yaml nested 18,000 levels deep is config-invalid (found by the long fuzz run: the YAML parser’s pretty error ran the process out of memory)', async () => {
    const cfg = join(dir, '.sops.yaml');
    writeFileSync(cfg, '{"a":'.repeat(18_000) + '1' + '}'.repeat(17_999));
    await fuzz({ name: 'creation-rules/deep', arb: fc.constant(cfg), numRuns: 1, allowed: ['config-invalid'], run: (c) => loadCreationRule(c, 'x.yaml', dir) });
    await fuzz({ name: 'creation-rules/deep-indent', arb: fc.constant(cfg), numRuns: 1, allowed: ['config-invalid'], run: (c) => loadStoreIndent(c, 'yaml') });
  });

  const n1 = runs(1_500, 200_000);
  it('pickCreationRule on random rule lists, for random file names: a rule, none, or config-invalid', { timeout: budget(n1) }, async () => {
    await fuzz({
      name: 'creation-rules/shaped',
      arb: fc.tuple(fc.oneof(fc.record({ creation_rules: fc.array(rule, { maxLength: 3 }) }), fc.anything({ maxDepth: 3 })), fc.oneof(fc.constantFrom('secrets/a.yaml', 'x.dev.yaml', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'), fc.string({ maxLength: 30 }))),
      numRuns: n1,
      allowed: ['config-invalid', 'usage', 'identity-invalid', 'malformed'],
      run: ([doc, file]) => pickCreationRule(doc, join(dir, '.sops.yaml'), join(dir, file)),
    });
  });

  const n2 = runs(800, 100_000);
  it('loadCreationRule on mutated real .sops.yaml files', { timeout: budget(n2) }, async () => {
    const cfg = join(dir, '.sops.yaml');
    await fuzz({
      name: 'creation-rules/mutated',
      arb: fc.tuple(mutationsArb, fc.constantFrom('secrets/a.yaml', 'x.dev.yaml', 'other.yaml')),
      numRuns: n2,
      allowed: ['config-invalid', 'usage', 'identity-invalid', 'malformed'],
      run: ([ms, file]) => {
        writeFileSync(cfg, mutate(REAL, ms));
        return loadCreationRule(cfg, file, dir);
      },
    });
  });
});

describe('key paths (fuzz)', () => {
  const tree = (depth: number): fc.Arbitrary<Node> =>
    depth === 0
      ? fc.string().map((value) => ({ type: 'str', value }) as Node)
      : fc.oneof(
          fc.string().map((value) => ({ type: 'str', value }) as Node),
          fc.array(fc.tuple(fc.oneof(fc.constantFrom('a', 'b', '0', 'a.b', '"]', "'"), fc.string({ maxLength: 4 })), tree(depth - 1)), { maxLength: 3 }).map((kv) => ({ type: 'map', items: kv.map(([key, value]) => ({ type: 'entry', key, value })) }) as Node),
          fc.array(tree(depth - 1), { maxLength: 3 }).map((items) => ({ type: 'list', items }) as Node),
        );

  const n1 = runs(2_000, 300_000);
  it('parseKeyPath + lookupPath: a node, usage or key-not-found; formatKeyPath round-trips', { timeout: budget(n1) }, async () => {
    await fuzz({
      name: 'key-path/parse-lookup',
      arb: fc.tuple(fc.oneof(tokenText, fc.constantFrom('a.b', '["a"]["b"]', "['a.b'][0]", '[0]', 'a..b', '[', '["', `${'['.repeat(5000)}`, `["${'a'.repeat(5000)}"]`), fc.string()), tree(3)),
      numRuns: n1,
      allowed: ['usage', 'key-not-found'],
      run: ([text, t]) => {
        const path = parseKeyPath(text);
        expect(parseKeyPath(formatKeyPath(path))).toEqual(path.map((s) => s));
        return t.type === 'map' ? lookupPath(t as MapNode, path, 'f.yaml') : path;
      },
    });
  });
});
