// What every command receives instead of touching `process`: environment, cwd and streams.
import { userInfo } from 'node:os';
import type { Readable, Writable } from 'node:stream';

/** A readable stream that may be a terminal. */
export type InputStream = Readable & { isTTY?: boolean; fd?: number };
/** A writable stream that may be a terminal. */
export type OutputStream = Writable & { isTTY?: boolean };

/** The inputs and outputs of one CLI invocation; `main.ts` fills it from `process`. */
export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdin: InputStream;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** The path the bin was started as (process.argv[1]); the launcher skips it during its PATH search. */
  readonly selfPath?: string;
}

/** The user's home directory: `$HOME`, else the account's (an empty HOME is no home). */
export function homeDirOf(ctx: Pick<CliContext, 'env'>): string {
  const h = ctx.env['HOME'];
  return h !== undefined && h !== '' ? h : userInfo().homedir;
}
