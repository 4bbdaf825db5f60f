// The ini store (placeholder until the full version lands).
import type { MapNode } from '../tree.js';
import type { LoadedStore } from './index.js';
import { InternalError } from '../../errors.js';
/** Not yet implemented. */
export function loadIni(_text: string, _source: string): LoadedStore {
  throw new InternalError('ini store not implemented yet');
}
/** Not yet implemented. */
export function emitIni(_b: readonly MapNode[], _m: MapNode | undefined): string {
  throw new InternalError('ini store not implemented yet');
}
