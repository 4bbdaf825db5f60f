// `secret edit`: runs the editor on the decrypted copy and owns the signal handling that guarantees the copy is removed.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { WithSecretsError, isWithSecretsError } from '../../errors.js';
import type { IdentityProvider } from '../../age/provider.js';
import type { StoreFormat } from '../../sops/tree.js';
import type { CliContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { formatError } from '../report.js';
import { note } from './write-common.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type HandledSignal = (typeof SIGNALS)[number];
const SIGNAL_NUMBERS: Record<HandledSignal, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** The first of `names` found on PATH, as sops falls back to vim, nano, vi. */
function findOnPath(names: readonly string[], path: string | undefined): string | undefined {
  for (const name of names) {
    for (const dir of (path ?? '').split(delimiter)) {
      if (dir === '') continue;
      try {
        accessSync(join(dir, name), fsConstants.X_OK);
        return name;
      } catch {
        // Not here.
      }
    }
  }
  return undefined;
}

/** The editor's argv: `$SOPS_EDITOR`, else `$EDITOR` (split like a shell would, without one), else vim/nano/vi. */
async function editorArgv(ctx: CliContext): Promise<string[]> {
  const { splitShellWords } = await import('../../age/shell-split.js');
  for (const name of ['SOPS_EDITOR', 'EDITOR'] as const) {
    const v = ctx.env[name];
    if (v !== undefined && v.trim() !== '') {
      const words = splitShellWords(v, name);
      if (words.length > 0) return words;
    }
  }
  const fallback = findOnPath(['vim', 'nano', 'vi'], ctx.env['PATH']);
  if (fallback === undefined) {
    throw new WithSecretsError('usage', 'no editor: $SOPS_EDITOR and $EDITOR are unset and neither vim, nano nor vi is on PATH', {
      hint: 'set EDITOR, e.g. EDITOR=nano',
    });
  }
  return [fallback];
}

/** Runs the editor on `file` with the terminal, and resolves with how it ended. */
function runEditor(argv: readonly string[], file: string, ctx: CliContext, started: (child: ChildProcess) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, [...argv.slice(1), file], { stdio: 'inherit', env: ctx.env as NodeJS.ProcessEnv, cwd: ctx.cwd });
    started(child);
    child.once('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'not executable' : (code ?? 'error');
      reject(new WithSecretsError('usage', `cannot start the editor ${argv[0]} (${why}); nothing was changed`, { cause: err, hint: 'check $SOPS_EDITOR / $EDITOR' }));
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Runs `secret edit` and returns the exit code. The plaintext copy is removed on every path: a
 * normal end, an error, and SIGINT/SIGTERM/SIGHUP (only SIGKILL cannot be caught; the next edit
 * removes what such a run left). While the editor runs, SIGINT belongs to it (it is in the same
 * foreground process group, as with git); SIGTERM and SIGHUP are passed on to it and end the edit.
 */
export async function runEdit(
  ctx: CliContext,
  file: string,
  format: StoreFormat,
  identities: IdentityProvider,
  lockTimeoutMs: number,
  indent?: number,
): Promise<number> {
  const { beginEdit } = await import('../../sops/edit-session.js');
  const argv = await editorArgv(ctx);
  const abort = new AbortController();
  let caught: HandledSignal | undefined;
  let editor: ChildProcess | undefined;
  let editorRunning = false;
  let cleanup: (() => void) | undefined;
  const handlers = new Map<HandledSignal, () => void>();
  for (const sig of SIGNALS) {
    const handler = (): void => {
      if (editorRunning && sig === 'SIGINT') return;
      caught ??= sig;
      abort.abort();
      if (editorRunning) editor?.kill(sig);
    };
    handlers.set(sig, handler);
    process.on(sig, handler);
  }
  // A last line of defence: an exit through any other path still removes the copy.
  const onExit = (): void => cleanup?.();
  process.on('exit', onExit);
  try {
    const session = await beginEdit(file, {
      format,
      identities,
      lockTimeoutMs,
      ...(indent === undefined ? {} : { indent }),
      runtimeDir: ctx.env['XDG_RUNTIME_DIR'],
      uid: process.getuid?.(),
      signal: abort.signal,
    });
    cleanup = session.cleanupSync;
    for (;;) {
      if (caught !== undefined) break;
      editorRunning = true;
      let ended;
      try {
        ended = await runEditor(argv, session.plaintextPath, ctx, (c) => (editor = c));
      } finally {
        editorRunning = false;
      }
      if (caught !== undefined) break;
      if (ended.code !== 0) {
        throw new WithSecretsError('usage', `the editor ${argv[0]} ${ended.signal ? `was killed by ${ended.signal}` : `exited with ${ended.code}`}; nothing was changed`);
      }
      try {
        const result = await session.finish();
        note(ctx, result === 'saved' ? `updated ${file}` : `${file} unchanged`);
        break;
      } catch (err) {
        // As sops edit: an invalid document sends the user back to the editor, when there is a terminal.
        if (!isWithSecretsError(err, 'malformed') || caught !== undefined) throw err;
        if (ctx.stdin.isTTY !== true) {
          throw new WithSecretsError(err.code, `${err.message}; your edits were not saved`, {
            cause: err,
            hint: err.hint ?? 'run secret edit again from a terminal, which sends you back to the editor to fix it',
          });
        }
        ctx.stderr.write(formatError(err));
        const { promptHidden } = await import('../../age/tty-prompt.js');
        try {
          // SIGTERM or SIGHUP at this prompt ends the edit too (the handlers abort this signal).
          await promptHidden('Press Enter to edit again, or Ctrl-C to discard your changes. ', { signal: abort.signal });
        } catch {
          throw new WithSecretsError('usage', 'edit discarded; nothing was changed');
        }
      }
    }
    if (caught !== undefined) {
      note(ctx, `interrupted by ${caught}; ${file} was not changed and the decrypted copy was removed`);
      return 128 + SIGNAL_NUMBERS[caught];
    }
    return EXIT.ok;
  } catch (err) {
    if (caught !== undefined) {
      note(ctx, `interrupted by ${caught}; ${file} was not changed`);
      return 128 + SIGNAL_NUMBERS[caught];
    }
    throw err;
  } finally {
    cleanup?.();
    for (const [sig, handler] of handlers) process.off(sig, handler);
    process.off('exit', onExit);
  }
}
