// Picks the store for a file from its extension, as sops' `cmd/sops/formats` does.

import type { StoreFormat } from '../tree.js';

/**
 * The store sops would use for `path`: `.yaml`/`.yml` → yaml, `.json` → json, `.env` → dotenv,
 * `.ini` → ini, anything else (including no extension) → binary.
 */
export function formatFromPath(path: string): StoreFormat {
  // sops matches on the suffix of the whole path (strings.HasSuffix), so `x.enc.yaml` is YAML
  // and a directory named `a.yaml/` holding `b` is not.
  if (path.endsWith('.yaml') || path.endsWith('.yml')) return 'yaml';
  if (path.endsWith('.json')) return 'json';
  if (path.endsWith('.env')) return 'dotenv';
  if (path.endsWith('.ini')) return 'ini';
  return 'binary';
}

/** True when `name` is one of the `--input-type`/`--output-type` names. */
export function isStoreFormat(name: string): name is StoreFormat {
  return name === 'yaml' || name === 'json' || name === 'dotenv' || name === 'ini' || name === 'binary';
}
