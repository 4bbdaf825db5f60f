// Decides which way an argument list goes, launch fast path or commander; the bin uses it to pick its bundle, cli.ts to run it.
import { isSubcommand } from './subcommands.js';

/** Global options that take a value, so the first non-option word (CMD) can be found without commander. */
const OPTIONS_WITH_VALUE = new Set(['-c', '--config', '-p', '--profile']);

const HELP = new Set(['-h', '--help', '-V', '--version']);

/** Options only the launcher has (commander's top level does not know them). */
const LAUNCHER_ONLY = new Set(['-p', '--profile', '--keep-existing', '--pristine', '-n', '--dry-run']);

/**
 * The launcher's short options written together, as commander accepts them for every other command:
 * `-vn` is `-v -n`, `-pNAME` is `-p NAME`, `-vp NAME` is `-v -p NAME`. Undefined when `arg` is not such a group.
 */
export function splitShortOptions(arg: string): string[] | undefined {
  if (arg.length <= 2 || arg[0] !== '-' || arg[1] === '-') return undefined;
  const out: string[] = [];
  for (let k = 1; k < arg.length; k++) {
    const ch = arg[k]!;
    if (ch === 'p' || ch === 'c') {
      out.push(`-${ch}`);
      if (k + 1 < arg.length) out.push(arg.slice(k + 1));
      return out;
    }
    if (ch !== 'v' && ch !== 'n') return undefined;
    out.push(`-${ch}`);
  }
  return out;
}

/** True when `arg` takes the next argument as its value (`-p`, `--config`, `-vp`). */
function takesNext(arg: string): boolean {
  if (OPTIONS_WITH_VALUE.has(arg)) return true;
  const parts = splitShortOptions(arg);
  return parts !== undefined && OPTIONS_WITH_VALUE.has(parts[parts.length - 1]!);
}

/** Where `args` go: a launch (`at` is CMD's or `run`'s index) or the commander program. */
export type Route = { readonly kind: 'launch'; readonly at: number; readonly mode: 'run' | 'launch' } | { readonly kind: 'program' };

/** Index of the first argument that is not a global option, or -1. */
function firstCommandIndex(args: readonly string[]): number {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return i + 1 < args.length ? i + 1 : -1;
    if (!a.startsWith('-') || a === '-') return i;
    if (takesNext(a)) i++;
  }
  return -1;
}

/** True when `run`'s own options (before `--` or CMD) ask for help, which commander prints. */
function runWantsHelp(args: readonly string[], runAt: number): boolean {
  for (let i = runAt + 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--' || !a.startsWith('-')) return false;
    if (HELP.has(a)) return true;
    if (takesNext(a)) i++;
  }
  // `with-secrets run` alone shows run's help; with options but no CMD the launcher says what is missing (125).
  return runAt === args.length - 1;
}

/** Routes `args` (argv without node and the script). Pure: the bin and cli.ts must agree on every input. */
export function routeArgs(args: readonly string[]): Route {
  const at = firstCommandIndex(args);
  const word = at >= 0 ? args[at]! : undefined;
  const afterDashDash = at > 0 && args[at - 1] === '--';
  const wantsHelp = args.slice(0, at >= 0 ? at : args.length).some((a) => HELP.has(a));
  if (word === 'run' && !afterDashDash && !wantsHelp && !runWantsHelp(args, at)) return { kind: 'launch', at, mode: 'run' };
  // Launcher options without a CMD (`with-secrets --profile gh`): the launcher says what is missing.
  const launcherOnly =
    word === undefined && !wantsHelp && args.some((a) => LAUNCHER_ONLY.has(a.split('=')[0]!) || (splitShortOptions(a)?.some((o) => LAUNCHER_ONLY.has(o)) ?? false));
  if (!launcherOnly && (word === undefined || wantsHelp || (isSubcommand(word) && !afterDashDash))) return { kind: 'program' };
  return { kind: 'launch', at, mode: 'launch' };
}
