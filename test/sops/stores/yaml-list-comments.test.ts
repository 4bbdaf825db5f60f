// Comments that start a map or list which is a list element: written where both YAML readers put them back at the same node.

import { describe, expect, it } from 'vitest';
import { emitStore, loadStore } from '../../../src/sops/stores/index.js';
import { parseYamlFast } from '../../../src/sops/stores/yaml-fast.js';
import { buildBranches } from '../../../src/sops/stores/yaml-ir.js';
import { parseYamlDocuments } from '../../../src/sops/stores/yaml-parse-lib.js';
import type { Comment, Entry, ListNode, MapNode, Node } from '../../../src/sops/tree.js';

const c = (value: string): Comment => ({ type: 'comment', value });
const list = (...items: Array<Node | Comment>): ListNode => ({ type: 'list', items });
const map = (...items: Array<Entry | Comment>): MapNode => ({ type: 'map', items });
const e = (key: string, value: Node): Entry => ({ type: 'entry', key, value });
const int = (v: number): Node => ({ type: 'int', value: String(v) });
const tiny: Node = { type: 'float', value: -5e-324 };
const empty: Node = { type: 'str', value: '' };
/** A document `a: <value>`. */
const doc = (value: Node): MapNode[] => [map(e('a', value))];

/** Reads `text` with the fast reader (undefined when it defers) and with the `yaml` package path. */
function readBoth(text: string): { fast: MapNode[] | undefined; lib: MapNode[] } {
  const fastDocs = parseYamlFast(text);
  return {
    fast: fastDocs === undefined ? undefined : buildBranches(fastDocs, 't.yaml'),
    lib: buildBranches(parseYamlDocuments(text, 't.yaml'), 't.yaml'),
  };
}

/** The same layout one indent unit deeper: at indent 4 everything under `a:` moves two columns right. */
const atIndent4 = (text: string): string => text.replace(/^ /gm, '   ');

interface Shape {
  name: string;
  tree: MapNode[];
  /** The tree as read back: comments that start a list element belong to the enclosing list. */
  back: MapNode[];
  /** The text at indent 2. */
  text2: string;
  /** True when the fast reader handles the text (it defers `- - ` lines to the `yaml` package). */
  fast: boolean;
}

const shapes: Shape[] = [
  {
    name: 'property counterexample: comment first in a map in a list in a list, after a list',
    tree: doc(list(list(tiny), list(map(c(' note'), e('', empty))))),
    back: doc(list(list(tiny), c(' note'), list(map(e('', empty))))),
    text2: 'a:\n  - - -5e-324\n  # note\n  - - "": ""\n',
    fast: false,
  },
  {
    name: 'comment first in a map in a list, after a map with a foot comment (yaml.v3 layout)',
    tree: doc(list(map(e('k', int(1)), c(' foot')), map(c(' head'), e('j', int(2))))),
    back: doc(list(map(e('k', int(1)), c(' foot')), c(' head'), map(e('j', int(2))))),
    text2: 'a:\n  - k: 1\n    # foot\n  # head\n  - j: 2\n',
    fast: true,
  },
  {
    name: 'comment first in a map in a list in a list, after a map with a foot comment',
    tree: doc(list(list(map(e('k', int(1)), c(' foot'))), list(map(c(' head'), e('j', int(2)))))),
    back: doc(list(list(map(e('k', int(1)), c(' foot'))), c(' head'), list(map(e('j', int(2)))))),
    text2: 'a:\n  - - k: 1\n      # foot\n  # head\n  - - j: 2\n',
    fast: false,
  },
  {
    name: 'comment first in a map three lists deep, after a list',
    tree: doc(list(list(list(int(1))), list(list(map(c(' head'), e('j', int(2))))))),
    back: doc(list(list(list(int(1))), c(' head'), list(list(map(e('j', int(2))))))),
    text2: 'a:\n  - - - 1\n  # head\n  - - - j: 2\n',
    fast: false,
  },
  {
    name: 'comment first in a list in a list, after a list with a foot comment',
    tree: doc(list(list(int(1), c(' foot')), list(c(' head'), int(2)))),
    back: doc(list(list(int(1), c(' foot')), c(' head'), list(int(2)))),
    text2: 'a:\n  - - 1\n    # foot\n  # head\n  - - 2\n',
    fast: false,
  },
  {
    name: 'comments first in a list and in its first map, in the first element of a list',
    tree: doc(list(list(c(' outer'), map(c(' inner'), e('j', int(2)), c(' foot'))))),
    back: doc(list(c(' outer'), c(' inner'), list(map(e('j', int(2)), c(' foot'))))),
    text2: 'a:\n  # outer\n  # inner\n  - - j: 2\n      # foot\n',
    fast: false,
  },
];

describe('YAML: comments that start a list element', () => {
  for (const s of shapes) {
    for (const indent of [2, 4]) {
      it(`${s.name}, indent ${indent}`, async () => {
        const want = indent === 2 ? s.text2 : atIndent4(s.text2);
        const text = await emitStore('yaml', s.tree, undefined, { indent });
        expect(text).toBe(want);
        const { fast, lib } = readBoth(text);
        expect(lib, text).toEqual(s.back);
        if (s.fast) expect(fast, text).toEqual(s.back);
        else expect(fast).toBeUndefined();
        expect((await loadStore('yaml', text, 't.yaml')).branches).toEqual(s.back);
        // What was read is written the same way again.
        expect(await emitStore('yaml', s.back, undefined, { indent })).toBe(text);
      });
    }
  }
});
