// Builds the `malformed` errors of the stores: file name plus line or key path, never a value.

import { WithSecretsError } from '../../errors.js';

/** Where in the input a problem sits: a 1-based line (and column), or a key path. */
export interface Place {
  readonly line?: number;
  readonly column?: number;
  readonly path?: readonly string[];
}

/** Formats a key path the way `--extract` spells it: `["a"]["b"]`. */
export function formatKeyPath(path: readonly string[]): string {
  return path.map((k) => `[${JSON.stringify(k)}]`).join('');
}

/**
 * A `malformed` error for `source` (a file name) at `place`. `what` must not quote input text:
 * callers describe the problem in their own words; the third-party error goes in `cause`.
 */
export function malformed(
  source: string,
  place: Place | undefined,
  what: string,
  options: { hint?: string; cause?: unknown } = {},
): WithSecretsError {
  let where = '';
  if (place?.line !== undefined) {
    where = place.column !== undefined ? `line ${place.line}, column ${place.column}: ` : `line ${place.line}: `;
  } else if (place?.path !== undefined && place.path.length > 0) {
    where = `at ${formatKeyPath(place.path)}: `;
  }
  const opts: { hint?: string; cause?: unknown } = {};
  if (options.hint !== undefined) opts.hint = options.hint;
  if (options.cause !== undefined) opts.cause = options.cause;
  return new WithSecretsError('malformed', `${source}: ${where}${what}`, opts);
}

/** Maps a UTF-16 offset to a 1-based line and column, with a table of line starts built once. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  /** 1-based line of `offset`. */
  line(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** 1-based column of `offset` (in UTF-16 units). */
  column(offset: number): number {
    return offset - (this.starts[this.line(offset) - 1] ?? 0) + 1;
  }

  /** Offset where 1-based `line` starts. */
  lineStart(line: number): number {
    return this.starts[line - 1] ?? Number.MAX_SAFE_INTEGER;
  }

  /** Number of lines. */
  get count(): number {
    return this.starts.length;
  }
}
