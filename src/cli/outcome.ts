// The result of one CLI invocation, carried out by the bin entry alone.
import type { LaunchPlan } from '../launch/plan.js';

/** Either exit with a code, or start a child as planned. */
export type Outcome = { readonly kind: 'exit'; readonly code: number } | { readonly kind: 'launch'; readonly plan: LaunchPlan };

/** An exit outcome. */
export const exitWith = (code: number): Outcome => ({ kind: 'exit', code });
