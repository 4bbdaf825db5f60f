// Starts the planned child (execve where Node has it, else spawn with signal forwarding). Owned by the launcher issue.
import type { LaunchPlan } from '../launch/plan.js';

/** Replaces or supervises this process with the planned child. */
export async function carryOutLaunch(_plan: LaunchPlan): Promise<void> {
  process.exitCode = 125;
}
