// The YAML writer (placeholder until the full version lands).
import type { MapNode } from '../tree.js';
import { InternalError } from '../../errors.js';
/** Not yet implemented. */
export function emitYaml(_b: readonly MapNode[], _indent: number): string {
  throw new InternalError('YAML output not implemented yet');
}
