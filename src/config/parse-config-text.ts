// Parses config text: JSON.parse when the text is JSON (what Home Manager writes), else the YAML parser, loaded only then.
import { findDuplicateJsonKey } from './json-duplicate-keys.js';
import { ConfigIssue, type ConfigPath } from './validate-config.js';

type YamlModule = typeof import('yaml');

/**
 * Loads the YAML parser on demand. `yaml` is CommonJS: Node's import gives named exports and
 * `default`, but the esbuild bundle's split chunk gives only `default` (module.exports).
 */
async function loadYaml(): Promise<YamlModule> {
  const mod = (await import('yaml')) as YamlModule & { default?: YamlModule };
  return mod.default ?? mod;
}

/** A config syntax error at a 1-based line. */
export class ConfigSyntaxError extends Error {
  override readonly name = 'ConfigSyntaxError';
  constructor(
    message: string,
    readonly line: number | undefined,
  ) {
    super(message);
  }
}

/** Messages for the YAML parser's error codes; its own messages can quote the input, so they are not shown. */
const YAML_MESSAGES: Readonly<Record<string, string>> = {
  DUPLICATE_KEY: 'a key appears twice in the same map',
  BAD_INDENT: 'bad indentation',
  TAB_AS_INDENT: 'a tab is used for indentation',
  MISSING_CHAR: 'a closing quote or bracket is missing',
  MULTILINE_IMPLICIT_KEY: 'a key spans several lines (a missing ":" or quote?)',
  BLOCK_AS_IMPLICIT_KEY: 'a nested block is used as a key (a missing ":"?)',
  UNEXPECTED_TOKEN: 'unexpected text',
  ALIAS_PROPS: 'an alias cannot have a tag or anchor',
  BAD_ALIAS: 'an alias is invalid',
  BAD_SCALAR_START: 'a plain value starts with a reserved character (quote it)',
  KEY_OVER_1024_CHARS: 'a key is too long',
};

/**
 * Parses config text into plain data. JSON (first non-blank character `{`) takes the fast path and
 * never loads `yaml`; anything else, or JSON that does not parse, goes to the YAML parser, which
 * reports the line of a syntax error.
 */
export async function parseConfigText(text: string): Promise<unknown> {
  if (/^\s*\{/.test(text)) {
    let doc: unknown;
    try {
      doc = JSON.parse(text) as unknown;
    } catch {
      // Not strict JSON (a comment, a trailing comma, or YAML flow style): the YAML parser decides.
    }
    if (doc !== undefined) {
      // JSON.parse keeps the last of two equal keys without a word; the YAML path refuses them, and so does this one.
      const twice = findDuplicateJsonKey(text, doc);
      if (twice !== undefined) throw new ConfigSyntaxError(`invalid JSON: the key ${JSON.stringify(twice.key)} appears twice in the same map`, twice.line);
      return doc;
    }
  }
  const { parseDocument, LineCounter, visit, isScalar } = await loadYaml();
  const lineCounter = new LineCounter();
  let doc: ReturnType<typeof parseDocument>;
  try {
    // The package's own duplicate-key check is quadratic in a map's size (a 40,000-profile config: 14 s);
    // the scan below does it in one pass.
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  } catch {
    // The parser recurses per nesting level: thousands of levels overflow the stack (RangeError).
    throw new ConfigSyntaxError('invalid YAML: nested too deeply', undefined);
  }
  const err = doc.errors[0];
  if (err !== undefined) {
    throw new ConfigSyntaxError(`invalid YAML: ${YAML_MESSAGES[err.code] ?? err.code.toLowerCase().replace(/_/g, ' ')}`, lineCounter.linePos(err.pos[0]).line);
  }
  let twice: number | undefined;
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        if (seen.has(pair.key.value)) {
          twice = pair.key.range?.[0] ?? 0;
          return visit.BREAK;
        }
        seen.add(pair.key.value);
      }
      return undefined;
    },
  });
  if (twice !== undefined) throw new ConfigSyntaxError(`invalid YAML: ${YAML_MESSAGES['DUPLICATE_KEY']}`, lineCounter.linePos(twice).line);
  try {
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (e) {
    throw new ConfigSyntaxError('invalid YAML: aliases expand too far', undefined);
  }
}

/**
 * The 1-based line of `path` in the config text (the key itself for `at: 'key'`, else its value),
 * or of the deepest part of the path that exists. Used only to report an error, so it may load `yaml`.
 */
export async function findConfigLine(text: string, path: ConfigPath, at: ConfigIssue['at']): Promise<number | undefined> {
  const { parseDocument, LineCounter, isMap, isSeq, isScalar } = await loadYaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
  let node: unknown = doc.contents;
  let keyPos: number | undefined;
  let valuePos: number | undefined = (doc.contents as { range?: [number, number, number] } | null)?.range?.[0];
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined) break;
      keyPos = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
      node = pair.value;
      valuePos = (pair.value as { range?: [number, number, number] } | null)?.range?.[0] ?? keyPos;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as { range?: [number, number, number] } | undefined;
      if (item === undefined) break;
      node = item;
      keyPos = item.range?.[0];
      valuePos = keyPos;
    } else {
      break;
    }
  }
  const pos = at === 'key' ? (keyPos ?? valuePos) : (valuePos ?? keyPos);
  return pos === undefined ? undefined : lineCounter.linePos(pos).line;
}
