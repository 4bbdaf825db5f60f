// Which profiles use each name of a SOPS file (`secret list`): env references and envFrom sources pointing at it.
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from '../../config/config-types.js';
import type { PathSegment } from '../../sops/edit-tree.js';
import { parseKeyPath, showKeyPath } from '../../sops/key-path.js';

/** One name of the file and who uses it. */
export interface NameUse {
  /** The name as a user types it. */
  readonly display: string;
  readonly name: string;
  /** The document it is in (0 = first; only multi-document YAML has more). */
  readonly document: number;
  readonly profiles: { readonly profile: string; readonly variable: string }[];
}

/** The real path of `p`, or `p` resolved when it does not exist. */
async function canonical(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    return resolve(p);
  }
}

/** True when two paths are the same, by segment (a dotted digit part and a list index agree). */
function samePath(a: readonly PathSegment[], b: readonly PathSegment[]): boolean {
  return a.length === b.length && a.every((s, i) => String(s) === String(b[i]));
}

/**
 * Pairs each name of `docs` (leaf paths per document) with the profiles whose `env` references it
 * in `file`, or whose `envFrom` takes the whole file (top-level names of the first document).
 */
export async function usersOf(docs: readonly (readonly PathSegment[][])[], file: string, config: Config | undefined): Promise<NameUse[]> {
  const target = await canonical(file);
  const refs: { profile: string; variable: string; path: PathSegment[] }[] = [];
  const fromAll: string[] = [];
  if (config !== undefined) {
    for (const profile of config.profiles.values()) {
      for (const b of profile.env) {
        if (b.ref.kind !== 'sops' || (await canonical(b.ref.file)) !== target) continue;
        try {
          refs.push({ profile: profile.name, variable: b.name, path: parseKeyPath(b.ref.key) });
        } catch {
          // The config validator already checks key paths; an unparsable one matches nothing.
        }
      }
      for (const src of profile.envFrom) if ((await canonical(src.file)) === target) fromAll.push(profile.name);
    }
  }
  const out: NameUse[] = [];
  docs.forEach((paths, document) => {
    for (const path of paths) {
      const shown = showKeyPath(path);
      const profiles = refs.filter((r) => samePath(r.path, path)).map((r) => ({ profile: r.profile, variable: r.variable }));
      if (document === 0 && path.length === 1 && typeof path[0] === 'string') {
        for (const p of fromAll) profiles.push({ profile: p, variable: path[0] });
      }
      out.push({ display: docs.length > 1 ? `[doc ${document}] ${shown}` : shown, name: shown, document, profiles });
    }
  });
  return out;
}
