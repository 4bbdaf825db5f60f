// Finds a key that appears twice in one object of a JSON text: JSON.parse keeps the last silently, the YAML path refuses it.

/** A key given twice in one object: the key (decoded) and the 1-based line of its second appearance. */
export interface DuplicateKey {
  readonly key: string;
  readonly line: number;
}

/**
 * The first key that appears twice in the same object of `text`, or undefined. `text` must be the
 * JSON text JSON.parse turned into `parsed`. Keys are compared decoded, so `"a"` and `"\u0061"` are
 * the same key, as JSON.parse sees them.
 */
export function findDuplicateJsonKey(text: string, parsed: unknown): DuplicateKey | undefined {
  // Every key in the text is a string followed by a colon, and JSON.parse keeps one per name: when
  // the counts agree there is no duplicate (a launch pays ~0.1 ms for this instead of the scan's ~0.3).
  const inText = text.match(/"[ \t\r\n]*:/g)?.length ?? 0;
  return inText === countKeys(parsed) ? undefined : scanForDuplicate(text);
}

/** The keys of every object in `value`, counted without recursion (a deeply nested config must not overflow the stack). */
function countKeys(value: unknown): number {
  let n = 0;
  const todo: unknown[] = [value];
  while (todo.length > 0) {
    const v = todo.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) todo.push(v[i]);
      continue;
    }
    const obj = v as Record<string, unknown>;
    for (const key in obj) {
      n++;
      todo.push(obj[key]);
    }
  }
  return n;
}

/** The scan behind {@link findDuplicateJsonKey}: tracks strings, objects and arrays of valid JSON. */
function scanForDuplicate(text: string): DuplicateKey | undefined {
  // One entry per open object or array: the keys seen so far, or null for an array. The scan jumps
  // from one structural character or string to the next (it runs on every launch, in the interpreter).
  const open: (Set<string> | null)[] = [];
  const next = /["{}[\]]/g;
  const colon = /[ \t\r\n]*:/y;
  for (let m = next.exec(text); m !== null; m = next.exec(text)) {
    const at = m.index;
    const c = text.charCodeAt(at);
    if (c === 0x7b /* { */) open.push(new Set());
    else if (c === 0x5b /* [ */) open.push(null);
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) open.pop();
    else {
      // A string: its closing quote is the first one not escaped by an odd run of backslashes.
      let end = text.indexOf('"', at + 1);
      while (end !== -1 && text.charCodeAt(end - 1) === 0x5c /* \ */) {
        let run = 1;
        while (text.charCodeAt(end - 1 - run) === 0x5c) run++;
        if (run % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      if (end === -1) return undefined;
      next.lastIndex = end + 1;
      const keys = open[open.length - 1];
      if (keys === undefined || keys === null) continue;
      colon.lastIndex = end + 1;
      if (!colon.test(text)) continue;
      const raw = text.slice(at, end + 1);
      const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
      if (keys.has(key)) return { key, line: lineOf(text, at) };
      keys.add(key);
    }
  }
  return undefined;
}

function lineOf(text: string, at: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
