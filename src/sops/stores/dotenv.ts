// The dotenv store (placeholder until the full version lands).
import type { MapNode } from '../tree.js';
import type { LoadedStore } from './index.js';
import { InternalError } from '../../errors.js';
/** Not yet implemented. */
export function loadDotenv(_text: string, _source: string): LoadedStore {
  throw new InternalError('dotenv store not implemented yet');
}
/** Not yet implemented. */
export function emitDotenv(_b: readonly MapNode[], _m: MapNode | undefined): string {
  throw new InternalError('dotenv store not implemented yet');
}
