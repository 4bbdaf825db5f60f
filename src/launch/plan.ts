// What the launcher decided to start: resolved executable, argv and the complete child environment.

/** A fully resolved launch; only `src/cli/main.ts` carries it out (execve or spawn). */
export interface LaunchPlan {
  /** Absolute path of the executable, already checked to be an executable regular file. */
  readonly file: string;
  /** argv[0] and the arguments, passed untouched. */
  readonly argv: readonly string[];
  /** The complete environment of the child. */
  readonly env: Readonly<Record<string, string>>;
}
