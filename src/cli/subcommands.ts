// Names that are subcommands and so can never be profile names; kept apart so the launch fast path needs no commander.

/** Every subcommand name; `with-secrets NAME …` with one of these never launches a profile. */
export const SUBCOMMANDS = [
  'run',
  'decrypt',
  'list',
  'check',
  'init',
  'secret',
  'identity',
  'keyring',
  'recipients',
  'rotate',
  'doctor',
  'shell-init',
  'completion',
  'help',
] as const;

/** One of {@link SUBCOMMANDS}. */
export type Subcommand = (typeof SUBCOMMANDS)[number];

/** True when `name` is a subcommand. */
export function isSubcommand(name: string): name is Subcommand {
  return (SUBCOMMANDS as readonly string[]).includes(name);
}
