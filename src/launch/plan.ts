// What the launcher decided to start: resolved executable, argv and the complete child environment.

/** A fully resolved launch; only `src/cli/main.ts` carries it out (execve or spawn). */
export interface LaunchPlan {
  /** Absolute path of the executable, already checked to be an executable regular file. */
  readonly file: string;
  /** argv[0] and the arguments, passed untouched. */
  readonly argv: readonly string[];
  /** The complete environment of the child. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * True when the program (or an interpreter it needs) changed moments ago, so a writer may still hold
   * it open: execve would then fail with ETXTBSY, which nothing can check beforehand, and a failing
   * `process.execve` aborts Node. Such a launch spawns the child and waits instead, which reports it.
   */
  readonly recentlyChanged?: boolean;
}
