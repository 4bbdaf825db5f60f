// Property tests of openSopsFile and the metadata reader on damaged input: a typed error (or the original values), never a crash or a leak.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/age/provider.js';
import { parseAgeSecretKey } from '../../src/age/secret-key.js';
import { WithSecretsError } from '../../src/errors.js';
import { parseMetadata } from '../../src/sops/metadata.js';
import { openSopsFile } from '../../src/sops/open.js';
import type { MapNode, Node } from '../../src/sops/tree.js';
import { ageKeygen, makeSopsFile } from '../helpers/sops-fixture.js';

const CANARY = 'CANARY-mut-8e21';
const dir = mkdtempSync(join(tmpdir(), 'ws-mutation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const key = ageKeygen();
const identities = staticProvider([{ label: 'k', identities: [parseAgeSecretKey(key.secret)!] }]);
let good = '';
let expected = '';

beforeAll(async () => {
  const plain = JSON.stringify({ token: CANARY, nested: { n: 7, list: ['a', CANARY + '2'] }, flag: true, note_unencrypted: 'x' });
  const f = await makeSopsFile({ dir, name: 'm.json', plain, recipients: [key.recipient] });
  good = f.text;
  expected = leafValues((await openSopsFile('m.json', { identities, readFile: async () => good })).branches);
});

/**
 * The leaf values in walk order. Key names are left out on purpose: sops authenticates an encrypted
 * value's path through its AAD, but the name of an unencrypted key (`note_unencrypted`) is covered by
 * nothing, so renaming it to another `…_unencrypted` name opens as sops would open it.
 */
function leafValues(nodes: readonly unknown[]): string {
  const out: unknown[] = [];
  const walk = (n: unknown): void => {
    if (typeof n !== 'object' || n === null) return;
    const node = n as { type: string; items?: unknown[]; value?: unknown };
    if (node.type === 'entry') return walk(node.value);
    if (node.items) return node.items.forEach(walk);
    if (node.type !== 'comment') out.push([node.type, node.value]);
  };
  nodes.forEach(walk);
  return JSON.stringify(out);
}

const ALLOWED = ['malformed', 'decrypt-failed', 'mac-mismatch', 'no-identity'];

async function check(text: string): Promise<void> {
  try {
    const o = await openSopsFile('m.json', { identities, readFile: async () => text });
    // A change that survives every check must not have changed any value (e.g. whitespace).
    expect(leafValues(o.branches)).toBe(expected);
  } catch (e) {
    expect(e).toBeInstanceOf(WithSecretsError);
    expect(ALLOWED).toContain((e as WithSecretsError).code);
    expect((e as Error).message).not.toContain(CANARY);
    expect((e as Error).message).not.toContain(key.secret);
  }
}

describe('openSopsFile on damaged files (property)', () => {
  it('any truncation', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 100_000 }), async (n) => check(good.slice(0, n % good.length))), { numRuns: 150 });
  });

  it('any single character changed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom('A', 'z', '0', '"', '{', ']', ' ', '\n', '\\', 'é'), async (i, c) => {
        const at = i % good.length;
        await check(good.slice(0, at) + c + good.slice(at + 1));
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseMetadata on arbitrary trees (property)', () => {
  const scalar: fc.Arbitrary<Node> = fc.oneof(
    fc.string().map((value) => ({ type: 'str', value }) as Node),
    fc.bigInt().map((v) => ({ type: 'int', value: v.toString() }) as Node),
    fc.double().map((value) => ({ type: 'float', value }) as Node),
    fc.boolean().map((value) => ({ type: 'bool', value }) as Node),
    fc.constant({ type: 'null' } as Node),
  );
  const { tree } = fc.letrec<{ tree: Node; map: Node; list: Node }>((tie) => ({
    tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('map'), tie('list')),
    map: fc
      .array(fc.tuple(fc.constantFrom('age', 'recipient', 'enc', 'lastmodified', 'mac', 'key_groups', 'shamir_threshold', 'mac_only_encrypted', 'version', 'pgp', 'encrypted_regex', 'x'), tie('tree')), { maxLength: 6 })
      .map((kv) => ({ type: 'map', items: kv.map(([key, value]) => ({ type: 'entry', key, value })) }) as Node),
    list: fc.array(tie('tree'), { maxLength: 4 }).map((items) => ({ type: 'list', items }) as Node),
  }));

  it('returns metadata or throws malformed', () => {
    fc.assert(
      fc.property(tree, (t) => {
        if (t.type !== 'map') return;
        try {
          parseMetadata(t as MapNode, 'f.yaml');
        } catch (e) {
          expect(e).toBeInstanceOf(WithSecretsError);
          expect((e as WithSecretsError).code).toBe('malformed');
        }
      }),
      { numRuns: 1000 },
    );
  });
});
