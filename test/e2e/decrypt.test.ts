// `with-secrets decrypt` through the built CLI: every sops vector, extract semantics, exit codes, and no secret in any error output.
import { copyFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/built-cli.js';
import { ageKeygen, makeSopsFile, writeKeyFile } from '../helpers/sops-fixture.js';
import { expectedDocuments, HAVE_VECTORS, readVectors, VECTORS_DIR } from '../helpers/sops-vectors.js';

if (!HAVE_VECTORS) console.warn(`SKIPPED: sops vectors not found at ${VECTORS_DIR} (the fixture tests still run)`);

const home = mkdtempSync(join(tmpdir(), 'ws-e2e-decrypt-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** A clean environment: a private HOME, so no real key of the machine is found. */
function env(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), ...extra };
}

/** Vector key files are 0644 and read-only: a 0600 copy to use as SOPS_AGE_KEY_FILE. */
const keyCopies = new Map<string, string>();
function keyFileFor(rel: string): string {
  let copy = keyCopies.get(rel);
  if (copy === undefined) {
    mkdirSync(join(home, 'keys'), { recursive: true, mode: 0o700 });
    copy = join(home, 'keys', rel.replace(/\//g, '_'));
    copyFileSync(join(VECTORS_DIR, rel), copy);
    chmodSync(copy, 0o600);
    keyCopies.set(rel, copy);
  }
  return copy;
}

describe.skipIf(!HAVE_VECTORS)('decrypt: sops vectors through the built CLI', () => {
  const vectors = HAVE_VECTORS ? readVectors() : [];
  for (const v of vectors) {
    const file = join(VECTORS_DIR, v.file);
    const inputType = v.format.startsWith('binary') ? ['--input-type', 'binary'] : [];
    if (v.positive) {
      it(`decrypts ${v.file}`, async () => {
        const docs = expectedDocuments(v);
        for (let i = 0; i < docs.length; i++) {
          const r = await runCli(['decrypt', ...inputType, '--output-type', 'json', ...(docs.length > 1 ? ['--document', String(i)] : []), file], {
            env: env({ SOPS_AGE_KEY_FILE: keyFileFor(v.keys[0]!) }),
          });
          expect(r.stderr).toBe('');
          expect(r.code).toBe(0);
          expect(JSON.parse(r.stdout)).toEqual(docs[i]);
        }
      });
    } else {
      it(`refuses ${v.file} with exit code 5 and prints nothing on stdout`, async () => {
        const r = await runCli(['decrypt', ...inputType, file], { env: env({ SOPS_AGE_KEY_FILE: keyFileFor(v.keys[0]!) }) });
        expect(r.code).toBe(5);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(/^with-secrets: /);
      });
    }
  }

  it('binary files print their raw data by default', async () => {
    const v = vectors.find((x) => x.format.startsWith('binary'))!;
    const r = await runCli(['decrypt', join(VECTORS_DIR, v.file)], { env: env({ SOPS_AGE_KEY_FILE: keyFileFor(v.keys[0]!) }) });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe((expectedDocuments(v)[0] as { data: string }).data);
  });
});

describe('decrypt: own fixtures through the built CLI', () => {
  const CANARY = 'CANARY-e2e-5b7d1f-secret';
  const alice = ageKeygen();
  const mallory = ageKeygen();
  let dir = '';
  let yamlFile = '';
  let aliceKeys = '';
  let malloryKeys = '';
  const plain = `openai:\n    api_key: ${CANARY}\n    org: acme\nport: 8080\nitems:\n    - one\n    - two\n`;

  beforeAll(async () => {
    dir = join(home, 'fixtures');
    mkdirSync(dir, { recursive: true });
    yamlFile = (await makeSopsFile({ dir, name: 'secrets.yaml', plain, recipients: [alice.recipient] })).path;
    aliceKeys = writeKeyFile(dir, [alice.secret], 'alice.txt');
    malloryKeys = writeKeyFile(dir, [mallory.secret], 'mallory.txt');
  });

  const noLeak = (r: { stdout: string; stderr: string }) => {
    for (const out of [r.stdout, r.stderr]) {
      expect(out).not.toContain(CANARY);
      expect(out).not.toContain(alice.secret);
      expect(out).not.toContain(mallory.secret);
      expect(out).not.toContain('AGE-SECRET-KEY');
    }
  };

  it('prints the whole file in the input format, or another one', async () => {
    const y = await runCli(['decrypt', yamlFile], { env: env({ SOPS_AGE_KEY_FILE: aliceKeys }) });
    expect(y.code).toBe(0);
    expect(y.stdout).toContain(`api_key: ${CANARY}`);
    expect(y.stdout).not.toContain('sops:');
    const j = await runCli(['decrypt', '--output-type', 'json', yamlFile], { env: env({ SOPS_AGE_KEY: alice.secret }) });
    expect(JSON.parse(j.stdout)).toEqual({ openai: { api_key: CANARY, org: 'acme' }, port: 8080, items: ['one', 'two'] });
  });

  it('--extract: a string prints raw, a subtree in the output format, a number as text', async () => {
    const e = env({ SOPS_AGE_KEY_FILE: aliceKeys });
    expect((await runCli(['decrypt', '--extract', '["openai"]["api_key"]', yamlFile], { env: e })).stdout).toBe(CANARY);
    expect((await runCli(['decrypt', '--extract', 'openai.api_key', yamlFile], { env: e })).stdout).toBe(CANARY);
    expect((await runCli(['decrypt', '--extract', '["items"][1]', yamlFile], { env: e })).stdout).toBe('two');
    expect((await runCli(['decrypt', '--extract', '["port"]', yamlFile], { env: e })).stdout).toBe('8080\n');
    const sub = await runCli(['decrypt', '--extract', '["openai"]', '--output-type', 'json', yamlFile], { env: e });
    expect(JSON.parse(sub.stdout)).toEqual({ api_key: CANARY, org: 'acme' });
  });

  it('a missing key path exits 7 naming the path, without values', async () => {
    const r = await runCli(['decrypt', '--extract', '["openai"]["nope"]', yamlFile], { env: env({ SOPS_AGE_KEY_FILE: aliceKeys }) });
    expect(r.code).toBe(7);
    expect(r.stderr).toContain('openai.nope');
    noLeak(r);
  });

  it('a wrong key exits 4, lists the recipient and the sources tried, and leaks nothing', async () => {
    const r = await runCli(['decrypt', yamlFile], { env: env({ SOPS_AGE_KEY_FILE: malloryKeys }) });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(alice.recipient);
    expect(r.stderr).toContain('SOPS_AGE_KEY_FILE');
    expect(r.stderr).toMatch(/hint: /);
    noLeak(r);
    const none = await runCli(['decrypt', yamlFile], { env: env() });
    expect(none.code).toBe(4);
    noLeak(none);
  });

  it("uses the config's identities:, as the launch and doctor do (the hint of a failure points there)", async () => {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ version: 1, sopsFile: yamlFile, identities: [{ file: aliceKeys }], profiles: {} }));
    const r = await runCli(['--config', config, 'decrypt', '--extract', 'openai.org', yamlFile], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('acme');
    noLeak(r);
  });

  it('a tampered file exits 5 and a malformed one 6, leaking nothing', async () => {
    const text = readFileSync(yamlFile, 'utf8');
    const tampered = join(dir, 'tampered.yaml');
    writeFileSync(tampered, text.replace(/\nport: [^\n]+/, ''));
    const t = await runCli(['decrypt', tampered], { env: env({ SOPS_AGE_KEY_FILE: aliceKeys }) });
    expect(t.code).toBe(5);
    expect(t.stdout).toBe('');
    expect(t.stderr).toMatch(/MAC/);
    noLeak(t);
    const recovered = await runCli(['decrypt', '--ignore-mac', tampered], { env: env({ SOPS_AGE_KEY_FILE: aliceKeys }) });
    expect(recovered.code).toBe(0);
    expect(recovered.stderr).toMatch(/MAC not verified/);

    const flipped = join(dir, 'flipped.yaml');
    writeFileSync(flipped, text.replace(/(api_key: ENC\[AES256_GCM,data:)(.)/, (_, a: string, c: string) => a + (c === 'A' ? 'B' : 'A')));
    const f = await runCli(['decrypt', flipped], { env: env({ SOPS_AGE_KEY_FILE: aliceKeys }) });
    expect(f.code).toBe(5);
    expect(f.stderr).toContain('openai.api_key');
    noLeak(f);

    const malformed = join(dir, 'malformed.yaml');
    writeFileSync(malformed, `api_key: ${CANARY}\n  bad: [indent\n`);
    const m = await runCli(['decrypt', malformed], { env: env({ SOPS_AGE_KEY_FILE: aliceKeys }) });
    expect(m.code).toBe(6);
    noLeak(m);
    const plainFile = join(dir, 'plain.yaml');
    writeFileSync(plainFile, `api_key: ${CANARY}\n`);
    const p = await runCli(['decrypt', plainFile], { env: env({ SOPS_AGE_KEY_FILE: aliceKeys }) });
    expect(p.code).toBe(6);
    expect(p.stderr).toMatch(/not a sops file/);
    noLeak(p);
  });

  it('--verbose failures add causes but still no value or key material', async () => {
    const text = readFileSync(yamlFile, 'utf8');
    const flipped = join(dir, 'flipped-v.yaml');
    writeFileSync(flipped, text.replace(/(api_key: ENC\[AES256_GCM,data:)(.)/, (_, a: string, c: string) => a + (c === 'A' ? 'B' : 'A')));
    const typeChanged = join(dir, 'typed-v.yaml');
    writeFileSync(typeChanged, text.replace(/(api_key: ENC\[[^\]]*type:)str\]/, '$1int]'));
    for (const [file, keys, code] of [
      [flipped, aliceKeys, 5],
      // The type is not authenticated by sops: the plaintext then fails to convert (6), and sops would quote it.
      [typeChanged, aliceKeys, 6],
      [yamlFile, malloryKeys, 4],
    ] as const) {
      const r = await runCli(['--verbose', 'decrypt', file], { env: env({ SOPS_AGE_KEY_FILE: keys, SOPS_AGE_KEY: mallory.secret }) });
      expect(r.code).toBe(code);
      noLeak(r);
    }
  });

  it('usage errors exit 2; a missing file 9', async () => {
    expect((await runCli(['decrypt', '--output-type', 'toml', yamlFile], { env: env() })).code).toBe(2);
    expect((await runCli(['decrypt', '--extract', '["unterminated', yamlFile], { env: env() })).code).toBe(2);
    expect((await runCli(['decrypt', join(dir, 'absent.yaml')], { env: env() })).code).toBe(9);
  });

  it('multi-document YAML: all documents by default, one with --document', async () => {
    const f = await makeSopsFile({ dir, name: 'docs.yaml', plain: 'a: 1\n---\nb: two\n', recipients: [alice.recipient] });
    const all = await runCli(['decrypt', f.path], { env: env({ SOPS_AGE_KEY_FILE: aliceKeys }) });
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/a: 1\n---\nb: two\n/);
    const second = await runCli(['decrypt', '--document', '1', '--output-type', 'json', f.path], { env: env({ SOPS_AGE_KEY_FILE: aliceKeys }) });
    expect(JSON.parse(second.stdout)).toEqual({ b: 'two' });
    expect((await runCli(['decrypt', '--document', '5', f.path], { env: env({ SOPS_AGE_KEY_FILE: aliceKeys }) })).code).toBe(2);
  });
});
