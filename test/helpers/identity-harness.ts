// A tiny program around createIdentityProvider, bundled by tests to run under a pty or without a terminal.
import { execFileSync } from 'node:child_process';
import { createIdentityProvider } from '../../src/age/sources.js';
import { isDescribedIdentity } from '../../src/age/age-key-identity.js';
import type { IdentitySpec } from '../../src/age/provider.js';

// Input: HARNESS_SPECS (JSON IdentitySpec[]), HARNESS_INTERACTIVE (1/0). Output: one JSON line.
// The terminal's settings before and after, to show the prompt restored them (stdin is the pty).
const stty = (): string => {
  try {
    return execFileSync('stty', ['-g'], { stdio: ['inherit', 'pipe', 'ignore'], encoding: 'utf8' }).trim();
  } catch {
    return 'none';
  }
};
const before = stty();
const specs = JSON.parse(process.env['HARNESS_SPECS'] ?? '[]') as IdentitySpec[];
const provider = createIdentityProvider({
  env: {},
  homeDir: process.env['HOME'] ?? '/nonexistent',
  specs,
  interactive: process.env['HARNESS_INTERACTIVE'] === '1',
  notes: (m) => process.stderr.write(`note: ${m}\n`),
});
const recipients: string[] = [];
let error: string | undefined;
try {
  for await (const s of provider.sources()) {
    for (const id of s.identities) if (isDescribedIdentity(id)) recipients.push(await id.recipient());
  }
} catch (e) {
  error = e instanceof Error ? e.message : String(e);
}
process.stdout.write(`RESULT ${JSON.stringify({ recipients, report: provider.report(), sttyRestored: stty() === before, error })}\n`);
