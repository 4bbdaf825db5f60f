// `.sops.yaml` lookup (file's directory upward, then cwd) and creation-rule selection as sops does it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSopsConfig, loadCreationRule, loadStoreIndent } from '../../src/sops/creation-rules.js';
import { isWithSecretsError } from '../../src/errors.js';

const A = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const B = 'age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg';
const C = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDvx2FsOcv1G6wGH5j2L4c4F9jJ5H8HqD0uWbCoG3vBD test';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ws-rules-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const expectError = async (p: Promise<unknown>, code: string, text: RegExp): Promise<void> => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(isWithSecretsError(err, code as never)).toBe(true);
  expect((err as Error).message).toMatch(text);
};

describe('findSopsConfig', () => {
  it('looks from the file\'s directory upward first, then from the cwd', async () => {
    const proj = join(root, 'find');
    mkdirSync(join(proj, 'a', 'b', 'c'), { recursive: true });
    mkdirSync(join(proj, 'elsewhere', 'deep'), { recursive: true });
    writeFileSync(join(proj, 'a', '.sops.yaml'), 'creation_rules: []\n');
    writeFileSync(join(proj, 'elsewhere', '.sops.yaml'), 'creation_rules: []\n');
    // The file's own directory tree wins over the cwd's.
    expect((await findSopsConfig('a/b/c/s.yaml', join(proj))).path).toBe(join(proj, 'a', '.sops.yaml'));
    expect((await findSopsConfig(join(proj, 'a', 'b', 's.yaml'), join(proj, 'elsewhere', 'deep'))).path).toBe(join(proj, 'a', '.sops.yaml'));
    // No config above the file: the cwd's is used, as sops would.
    const lone = mkdtempSync(join(tmpdir(), 'ws-lone-'));
    expect((await findSopsConfig(join(lone, 's.yaml'), join(proj, 'elsewhere', 'deep'))).path).toBe(join(proj, 'elsewhere', '.sops.yaml'));
    rmSync(lone, { recursive: true });
    // An explicit path (SOPS_CONFIG) wins.
    expect((await findSopsConfig('x.yaml', proj, 'custom.yaml')).path).toBe(join(proj, 'custom.yaml'));
  });

  it('warns about a .sops.yml, which sops ignores', async () => {
    const lone = mkdtempSync(join(tmpdir(), 'ws-yml-'));
    writeFileSync(join(lone, '.sops.yml'), 'creation_rules: []\n');
    const r = await findSopsConfig(join(lone, 's.yaml'), lone);
    expect(r.path).toBeUndefined();
    expect(r.warnings.join('\n')).toContain('.sops.yml');
    rmSync(lone, { recursive: true });
  });
});

describe('loadCreationRule', () => {
  const write = (name: string, text: string): string => {
    const d = join(root, name);
    mkdirSync(join(d, 'secrets', 'prod'), { recursive: true });
    writeFileSync(join(d, '.sops.yaml'), text);
    return d;
  };

  it('picks the first rule whose path_regex matches the path relative to the config', async () => {
    const d = write(
      'pick',
      [
        'creation_rules:',
        '  - path_regex: ^secrets/prod/.*\\.yaml$',
        `    age: "${A}, ${B},"`,
        '    encrypted_regex: ^(data|stringData)$',
        '    mac_only_encrypted: true',
        '  - path_regex: \\.env$',
        `    age: [${A}]`,
        '  - age: ' + B,
      ].join('\n'),
    );
    const prod = await loadCreationRule(join(d, '.sops.yaml'), 'secrets/prod/app.yaml', d);
    expect(prod).toMatchObject({ index: 0, keyGroups: [[A, B]], encryptionRules: { encryptedRegex: '^(data|stringData)$' }, macOnlyEncrypted: true, shamirThreshold: 0 });
    expect(await loadCreationRule(join(d, '.sops.yaml'), join(d, 'x.env'), d)).toMatchObject({ index: 1, keyGroups: [[A]], macOnlyEncrypted: false });
    // The `^secrets/` anchor matches because the path is taken relative to the config's directory, whatever the cwd.
    expect(await loadCreationRule(join(d, '.sops.yaml'), 'other.yaml', join(d, 'secrets', 'prod'))).toMatchObject({ index: 0 });
    expect(await loadCreationRule(join(d, '.sops.yaml'), 'other.yaml', d)).toMatchObject({ index: 2, keyGroups: [[B]] });
  });

  it('reads key_groups (lists, comma items, merge, SSH recipients) and shamir_threshold', async () => {
    const d = write(
      'groups',
      [
        'creation_rules:',
        '  - shamir_threshold: 2',
        '    key_groups:',
        `      - age: ["${A},${B}", "${A}"]`,
        '      - merge:',
        `          - age: ["${C}"]`,
        `        age: [${B}]`,
        `      - age: [${A}]`,
      ].join('\n'),
    );
    const r = await loadCreationRule(join(d, '.sops.yaml'), 's.yaml', d);
    expect(r?.keyGroups).toEqual([[A, B], [C, B], [A]]);
    expect(r?.shamirThreshold).toBe(2);
  });

  it('returns undefined without creation_rules, and fails when no rule matches', async () => {
    const d1 = write('none', 'stores:\n  yaml:\n    indent: 2\n');
    expect(await loadCreationRule(join(d1, '.sops.yaml'), 's.yaml', d1)).toBeUndefined();
    const d2 = write('nomatch', `creation_rules:\n  - path_regex: ^nothing$\n    age: ${A}\n`);
    await expectError(loadCreationRule(join(d2, '.sops.yaml'), 's.yaml', d2), 'config-invalid', /no creation rule matches s\.yaml/);
  });

  it('refuses rules it cannot honour, saying why', async () => {
    const pgp = write('pgp', `creation_rules:\n  - pgp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n    age: ${A}\n`);
    await expectError(loadCreationRule(join(pgp, '.sops.yaml'), 's.yaml', pgp), 'config-invalid', /\.pgp: with-secrets encrypts to age recipients only/);
    const two = write('two', `creation_rules:\n  - age: ${A}\n    encrypted_regex: a\n    unencrypted_suffix: _x\n`);
    await expectError(loadCreationRule(join(two, '.sops.yaml'), 's.yaml', two), 'config-invalid', /more than one/);
    const empty = write('empty', 'creation_rules:\n  - path_regex: .*\n');
    await expectError(loadCreationRule(join(empty, '.sops.yaml'), 's.yaml', empty), 'config-invalid', /names no age recipient/);
    const kmsGroup = write('kmsgroup', `creation_rules:\n  - key_groups:\n      - kms: [{arn: x}]\n        age: [${A}]\n`);
    await expectError(loadCreationRule(join(kmsGroup, '.sops.yaml'), 's.yaml', kmsGroup), 'config-invalid', /key_groups\[0\]\.kms/);
    const badYaml = write('badyaml', 'creation_rules: [\n');
    await expectError(loadCreationRule(join(badYaml, '.sops.yaml'), 's.yaml', badYaml), 'config-invalid', /not valid YAML/);
  });
});

describe('loadStoreIndent', () => {
  it('reads stores.<format>.indent as sops does', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ws-indent-'));
    const p = join(d, '.sops.yaml');
    writeFileSync(p, 'stores:\n  yaml:\n    indent: 2\n  json:\n    indent: 4\n  json_binary:\n    indent: 1\n');
    expect(await loadStoreIndent(p, 'yaml')).toBe(2);
    expect(await loadStoreIndent(p, 'json')).toBe(4);
    expect(await loadStoreIndent(p, 'binary')).toBe(1);
    expect(await loadStoreIndent(p, 'dotenv')).toBeUndefined();
    writeFileSync(p, 'creation_rules: []\n');
    expect(await loadStoreIndent(p, 'yaml')).toBeUndefined();
    writeFileSync(p, 'stores:\n  yaml:\n    indent: wide\n');
    await expectError(loadStoreIndent(p, 'yaml'), 'config-invalid', /indent/);
    rmSync(d, { recursive: true });
  });
});
