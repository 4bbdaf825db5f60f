// Splits a command line into words the way sops splits SOPS_AGE_KEY_CMD (github.com/google/shlex).
import { WithSecretsError } from '../errors.js';

/**
 * Splits `line` into argv words as google/shlex does: whitespace separates words; `'…'` is literal;
 * inside `"…"` a backslash takes the next character literally; outside quotes a backslash escapes
 * the next character; `#` at the start of a word comments out the rest of the line. No expansion
 * of variables, globs or `~` happens. Unterminated quotes or a trailing backslash are a `usage` error
 * naming `what` (the text is not quoted: it may be sensitive).
 */
export function splitShellWords(line: string, what: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const fail = (why: string): never => {
    throw new WithSecretsError('usage', `${what}: ${why}`, { hint: 'check the quoting of the command line' });
  };
  while (i < line.length) {
    const c = line[i]!;
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === '#' && !inWord) {
      while (i < line.length && line[i] !== '\n') i++;
    } else if (c === '\\') {
      if (i + 1 >= line.length) fail('ends with a backslash');
      word += line[i + 1]!;
      inWord = true;
      i += 2;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) fail('has an unterminated single quote');
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      inWord = true;
      for (;;) {
        if (i >= line.length) fail('has an unterminated double quote');
        const d = line[i]!;
        if (d === '"') break;
        if (d === '\\') {
          if (i + 1 >= line.length) fail('has an unterminated double quote');
          word += line[i + 1]!;
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      i++;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
