// The stores: converting a file's text to sops branches plus metadata and back, for every format sops has.

import { WithSecretsError } from '../../errors.js';
import type { MapNode, StoreFormat } from '../tree.js';
import { formatFromPath, isStoreFormat } from './format.js';
import { emitJson, parseJsonBranch } from './json.js';
import { joinMetadata, splitMetadata } from './split-metadata.js';

export { formatFromPath, isStoreFormat };

/** A store's content: the plain or encrypted branches, and the `sops` metadata as a nested map (already un-flattened for dotenv/INI), removed from the branches. */
export interface LoadedStore {
  readonly branches: MapNode[];
  readonly metadata: MapNode | undefined;
}

/** Options of {@link loadStore}. */
export interface LoadOptions {
  /**
   * Binary store only. `auto` (default): a JSON object with a top-level `sops` map is an encrypted
   * envelope, anything else is plaintext. `plain`: always plaintext (the whole text becomes `data`).
   */
  readonly binary?: 'auto' | 'plain';
}

/**
 * Parses `text` in `format`. `source` names the file in error messages. Plaintext files load too
 * (`metadata` is then undefined). YAML gives one branch per document; other formats one branch.
 * Errors are `WithSecretsError('malformed')` naming the file and the line or key, never a value.
 */
export async function loadStore(
  format: StoreFormat,
  text: string,
  source: string,
  options: LoadOptions = {},
): Promise<LoadedStore> {
  switch (format) {
    case 'yaml': {
      const { loadYaml } = await import('./yaml.js');
      return splitMetadata(await loadYaml(text, source), source);
    }
    case 'json':
      return splitMetadata([parseJsonBranch(text, source)], source);
    case 'binary': {
      const { loadBinary } = await import('./binary.js');
      return loadBinary(text, source, options.binary ?? 'auto');
    }
    case 'dotenv': {
      const { loadDotenv } = await import('./dotenv.js');
      return loadDotenv(text, source);
    }
    case 'ini': {
      const { loadIni } = await import('./ini.js');
      return loadIni(text, source);
    }
  }
}

/** Options of {@link emitStore}. */
export interface EmitOptions {
  /** YAML: spaces per level (default 4). JSON and binary envelope: spaces per level (default a tab). */
  readonly indent?: number;
}

/**
 * Prints branches (and, when given, the metadata) in `format` as sops writes them. With metadata,
 * YAML appends `sops:` to every document, JSON and binary write the JSON envelope, dotenv and INI
 * write the flattened metadata. Binary without metadata prints the raw `data` string.
 */
export async function emitStore(
  format: StoreFormat,
  branches: readonly MapNode[],
  metadata: MapNode | undefined,
  options: EmitOptions = {},
): Promise<string> {
  switch (format) {
    case 'yaml': {
      const { emitYaml } = await import('./yaml-emit.js');
      return emitYaml(joinMetadata(branches, metadata), options.indent ?? 4);
    }
    case 'json':
      return emitJson(onlyBranch(branches, 'json', metadata), { indent: options.indent });
    case 'binary': {
      const { emitBinary } = await import('./binary.js');
      return emitBinary(branches, metadata, options.indent);
    }
    case 'dotenv': {
      const { emitDotenv } = await import('./dotenv.js');
      return emitDotenv(branches, metadata);
    }
    case 'ini': {
      const { emitIni } = await import('./ini.js');
      return emitIni(branches, metadata);
    }
  }
}

/** The single branch of a one-branch store, with metadata appended; more than one branch is a usage error. */
export function onlyBranch(branches: readonly MapNode[], format: StoreFormat, metadata: MapNode | undefined): MapNode {
  if (branches.length !== 1) {
    throw new WithSecretsError('usage', `the ${format} format holds exactly one document, got ${branches.length}`, {
      hint: 'pick one YAML document, or write YAML',
    });
  }
  return joinMetadata(branches, metadata)[0]!;
}
