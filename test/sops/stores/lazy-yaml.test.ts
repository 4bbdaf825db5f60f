// The `yaml` package stays out of the module graph of JSON/dotenv/INI/binary and of YAML's fast path (issue 7: launch speed).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Inputs reachable from `output` through static imports only. */
function staticInputs(meta: Metafile, output: string, seen = new Set<string>()): Set<string> {
  const inputs = new Set<string>();
  if (seen.has(output)) return inputs;
  seen.add(output);
  const o = meta.outputs[output]!;
  for (const i of Object.keys(o.inputs)) inputs.add(i);
  for (const imp of o.imports) {
    if (imp.kind === 'import-statement' && !imp.external) for (const i of staticInputs(meta, imp.path, seen)) inputs.add(i);
  }
  return inputs;
}

describe('lazy loading of the yaml package', () => {
  it('index.ts and the YAML reader/writer do not import `yaml` statically', async () => {
    const names = ['index.ts', 'yaml.ts', 'yaml-emit.ts', 'json.ts', 'dotenv.ts', 'ini.ts', 'binary.ts'];
    const entries = names.map((f) => path.join(repoRoot, 'src/sops/stores', f));
    const result = await build({
      entryPoints: entries,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      outdir: path.join(repoRoot, 'node_modules/.cache/lazy-yaml-test'),
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const meta = result.metafile;
    const byEntry = new Map<string, string>();
    for (const [out, o] of Object.entries(meta.outputs)) {
      if (o.entryPoint !== undefined && names.includes(path.basename(o.entryPoint))) byEntry.set(path.basename(o.entryPoint), out);
    }
    expect([...byEntry.keys()].sort()).toEqual([...names].sort());
    let sawYamlSomewhere = false;
    for (const [entry, out] of byEntry) {
      const inputs = [...staticInputs(meta, out)];
      expect(inputs.filter((i) => i.includes('node_modules/yaml/')), `${entry} pulls in the yaml package`).toEqual([]);
    }
    for (const o of Object.values(meta.outputs)) if (Object.keys(o.inputs).some((i) => i.includes('node_modules/yaml/'))) sawYamlSomewhere = true;
    // The package is still bundled, behind a dynamic import (the full-syntax path).
    expect(sawYamlSomewhere).toBe(true);
  });
});
