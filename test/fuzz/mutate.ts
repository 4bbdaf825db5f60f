// Mutations of real documents for the fuzz suite: bytes flipped, truncated, lines duplicated or dropped, huge and deeply nested values, invalid UTF-8.
import fc from 'fast-check';

/** One mutation of a document's bytes. */
export type Mutation =
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'byte'; readonly at: number; readonly byte: number }
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'dup-line'; readonly at: number }
  | { readonly op: 'drop-line'; readonly at: number }
  | { readonly op: 'swap-lines'; readonly at: number; readonly to: number }
  | { readonly op: 'insert'; readonly at: number; readonly text: string }
  | { readonly op: 'huge'; readonly at: number; readonly size: number }
  | { readonly op: 'nest'; readonly depth: number; readonly open: string; readonly close: string }
  | { readonly op: 'bad-utf8'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly op: 'splice'; readonly at: number; readonly from: number; readonly len: number };

/** Tokens that steer mutations towards the parsers' interesting paths. */
const TOKENS = [
  '\n', ':', ': ', '- ', '"', "'", '{', '}', '[', ']', ',', '=', '#', '&a ', '*a', '!!binary ', '!!int ', '---\n', '...\n', '|\n', '>\n', '\t', '\r\n', '\\',
  'ENC[AES256_GCM,data:', ',iv:', ',tag:', ',type:str]', ',type:int]', ',type:bytes]', ',type:comment]', 'sops:', 'mac: ', 'lastmodified: ', 'version: ',
  'age:', 'recipient: ', 'enc: ', '-----BEGIN AGE ENCRYPTED FILE-----\n', '-----END AGE ENCRYPTED FILE-----\n', 'sops_', '[sops]\n', 'DEFAULT', '"sops": ',
  'shamir_threshold: 3', 'key_groups:', 'encrypted_regex: ', 'unencrypted_suffix: ', 'mac_only_encrypted: true', '<<: *a\n', '\u0000', '\uFEFF', '\u2028',
];

/** An arbitrary mutation; positions are fractions scaled to the document later. */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('byte' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('dup-line' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('drop-line' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('swap-lines' as const), at: fc.nat(), to: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 8 })) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('huge' as const), at: fc.nat(), size: fc.integer({ min: 10_000, max: 1_000_000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('nest' as const), depth: fc.integer({ min: 50, max: 20_000 }), open: fc.constantFrom('[', '{"a":', '- ', 'a:\n ', '['), close: fc.constantFrom(']', '}', '', '') }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('bad-utf8' as const), at: fc.nat(), bytes: fc.array(fc.constantFrom(0x80, 0xbf, 0xc0, 0xc3, 0xe2, 0xed, 0xf0, 0xf4, 0xf8, 0xfe, 0xff), { minLength: 1, maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('splice' as const), at: fc.nat(), from: fc.nat(), len: fc.integer({ min: 1, max: 200 }) }) },
);

function lineBounds(buf: Buffer): number[] {
  const starts = [0];
  for (let i = 0; i < buf.length; i++) if (buf[i] === 0x0a) starts.push(i + 1);
  return starts;
}

/** Applies one mutation to `doc`. */
export function applyMutation(doc: Buffer, m: Mutation): Buffer {
  const n = Math.max(doc.length, 1);
  const at = 'at' in m ? m.at % (n + 1) : 0;
  switch (m.op) {
    case 'flip': {
      if (doc.length === 0) return doc;
      const out = Buffer.from(doc);
      out[at % doc.length]! ^= 1 << m.bit;
      return out;
    }
    case 'byte': {
      if (doc.length === 0) return Buffer.from([m.byte]);
      const out = Buffer.from(doc);
      out[at % doc.length] = m.byte;
      return out;
    }
    case 'truncate':
      return doc.subarray(0, at);
    case 'dup-line':
    case 'drop-line':
    case 'swap-lines': {
      const starts = lineBounds(doc);
      const lines = starts.map((s, i) => doc.subarray(s, starts[i + 1] ?? doc.length));
      const i = m.at % lines.length;
      if (m.op === 'dup-line') lines.splice(i, 0, lines[i]!);
      else if (m.op === 'drop-line') lines.splice(i, 1);
      else {
        const j = m.to % lines.length;
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      }
      return Buffer.concat(lines);
    }
    case 'insert':
      return Buffer.concat([doc.subarray(0, at), Buffer.from(m.text), doc.subarray(at)]);
    case 'huge':
      return Buffer.concat([doc.subarray(0, at), Buffer.alloc(m.size, 'A'), doc.subarray(at)]);
    case 'nest':
      return Buffer.concat([Buffer.from(m.open.repeat(m.depth)), doc, Buffer.from(m.close.repeat(m.depth))]);
    case 'bad-utf8':
      return Buffer.concat([doc.subarray(0, at), Buffer.from(m.bytes), doc.subarray(at)]);
    case 'splice': {
      const from = m.from % n;
      return Buffer.concat([doc.subarray(0, at), doc.subarray(from, from + m.len), doc.subarray(at)]);
    }
  }
}

/** One to three mutations applied in order. */
export const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 3 });

/** Applies `ms` to `doc` in order. */
export function mutate(doc: Buffer, ms: readonly Mutation[]): Buffer {
  return ms.reduce(applyMutation, doc);
}

/** Arbitrary text biased towards the tokens the parsers look for. */
export const tokenText: fc.Arbitrary<string> = fc
  .array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...TOKENS) }, { weight: 2, arbitrary: fc.string({ maxLength: 6 }) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) }), { maxLength: 40 })
  .map((parts) => parts.join(''));
