// The shells with-secrets integrates with, and where their snippets live in the package.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WithSecretsError } from '../errors.js';

/** The shells that `shell-init` and `completion` support. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** One of {@link SHELLS}. */
export type Shell = (typeof SHELLS)[number];

/** Returns `name` as a {@link Shell}, or throws a usage error listing the supported shells. */
export function parseShell(name: string): Shell {
  if ((SHELLS as readonly string[]).includes(name)) return name as Shell;
  throw new WithSecretsError('usage', `unsupported shell '${name}'`, { hint: `use one of: ${SHELLS.join(', ')}` });
}

/**
 * Finds the package's `shell/` folder by walking up from `fromUrl` (this module's URL in src/, in the
 * bundle's dist/ or in one of its chunks), so the snippets in `shell/` stay the single source.
 */
export function findShellDir(fromUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (let depth = 0; depth < 5; depth++) {
    const candidate = join(dir, 'shell');
    if (existsSync(join(candidate, 'with-secrets.bash'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new WithSecretsError('io', 'the shell snippets of with-secrets (shell/with-secrets.bash) were not found next to the program', {
    hint: 'reinstall with-secrets: its package must contain the shell/ folder',
  });
}

/** Reads the completion snippet for `shell` from the package's `shell/` folder. */
export function readSnippet(shell: Shell, shellDir: string = findShellDir()): string {
  try {
    return readFileSync(join(shellDir, `with-secrets.${shell}`), 'utf8');
  } catch (cause) {
    throw new WithSecretsError('io', `cannot read the ${shell} snippet in ${shellDir}`, { cause, hint: 'reinstall with-secrets' });
  }
}
