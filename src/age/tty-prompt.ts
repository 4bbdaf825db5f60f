// Asks for a passphrase on the controlling terminal (/dev/tty) without echo, restoring the terminal on every exit.
import { closeSync, openSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { WithSecretsError, errnoCode } from '../errors.js';

/** The user cancelled a prompt (Ctrl-C, Ctrl-D): the whole run stops, as Ctrl-C would stop it anywhere else. */
export class PromptCancelledError extends WithSecretsError {
  override readonly name = 'PromptCancelledError';
  constructor() {
    super('no-identity', 'passphrase prompt cancelled');
  }
}

/** Options of {@link promptHidden}. */
export interface PromptOptions {
  /** The terminal device; `/dev/tty` (the controlling terminal) unless a test says otherwise. */
  readonly device?: string;
  /** Ends the prompt as a cancel when aborted (a signal handler stopping the command). */
  readonly signal?: AbortSignal;
}

/**
 * Writes `prompt` to the controlling terminal and reads one line from it with echo off (raw mode),
 * never touching stdin or stdout, so it works while they are pipes. Backspace edits; Ctrl-C or
 * Ctrl-D on an empty line cancel (`no-identity`). Without a controlling terminal: `no-tty`.
 */
export async function promptHidden(prompt: string, options: PromptOptions = {}): Promise<string> {
  const device = options.device ?? '/dev/tty';
  let inFd: number;
  let outFd: number;
  try {
    inFd = openSync(device, 'r');
  } catch (e) {
    throw noTty(device, e);
  }
  try {
    outFd = openSync(device, 'w');
  } catch (e) {
    closeSync(inFd);
    throw noTty(device, e);
  }
  // Two descriptors: the ReadStream owns (and closes) the read side; the prompt is written synchronously.
  let input: ReadStream | undefined;
  try {
    input = new ReadStream(inFd);
    // Echo off before the prompt shows, so nothing typed in answer to it is echoed.
    input.setRawMode(true);
    writeSync(outFd, prompt);
    return await readLine(input, () => {
      try {
        writeSync(outFd, '\n');
      } catch {
        // The terminal hung up: nobody to show the newline to.
      }
    }, options.signal);
  } finally {
    try {
      input?.setRawMode(false);
    } catch {
      // The terminal may be gone (hangup); nothing left to restore.
    }
    if (input) input.destroy();
    else closeSync(inFd);
    closeSync(outFd);
  }
}

function noTty(device: string, e: unknown): WithSecretsError {
  return new WithSecretsError('no-tty', `cannot ask for a passphrase: no terminal (${device}: ${errnoCode(e) ?? 'error'})`, {
    cause: e,
    hint: 'run from a terminal, or use a key that needs no passphrase',
  });
}

function readLine(input: ReadStream, done: () => void, signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    let line = '';
    const finish = (err: WithSecretsError | undefined): void => {
      input.off('data', onData);
      input.off('error', onError);
      input.off('end', onEnd);
      signal?.removeEventListener('abort', onAbort);
      input.pause();
      done();
      if (err) reject(err);
      else resolve(line);
    };
    const cancelled = (): WithSecretsError => new PromptCancelledError();
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      let at = 0;
      for (const ch of text) {
        at += ch.length;
        if (ch === '\r' || ch === '\n') {
          // More lines in the same burst: a paste of several lines, which one line cannot hold. Refuse it
          // rather than keep the first line of (say) a PEM key without a word.
          const rest = text.slice(at).replace(/^\r?\n|^\n/, '');
          if (rest.replace(/[\r\n]/g, '') !== '') {
            return finish(new WithSecretsError('usage', 'more than one line was typed or pasted; this prompt takes one line', {
              hint: 'give a value of several lines on stdin instead, e.g. with-secrets secret set NAME < FILE',
            }));
          }
          return finish(undefined);
        }
        if (ch === '\u0003') return finish(cancelled());
        if (ch === '\u0004') {
          if (line === '') return finish(cancelled());
          continue;
        }
        if (ch === '\u007f' || ch === '\b') line = Array.from(line).slice(0, -1).join('');
        else if (ch === '\u0015') line = '';
        else if (ch >= ' ') line += ch;
      }
    };
    const onError = (e: Error): void => finish(new WithSecretsError('no-tty', 'the terminal failed while reading the passphrase', { cause: e }));
    const onEnd = (): void => finish(cancelled());
    const onAbort = (): void => finish(cancelled());
    if (signal?.aborted) return finish(cancelled());
    signal?.addEventListener('abort', onAbort, { once: true });
    input.on('data', onData);
    input.on('error', onError);
    input.on('end', onEnd);
    input.resume();
  });
}
