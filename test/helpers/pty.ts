// Runs a command under a real pseudo-terminal (python3's pty module) and answers its prompts.
import { spawn } from 'node:child_process';

/** What a pty run gave: the exit code and everything the terminal showed. */
export interface PtyResult {
  readonly code: number;
  readonly output: string;
}

/** One prompt to wait for (a substring of the terminal output) and what to type then, or which signal to send the command. */
export type PtyAnswer = { readonly expect: string; readonly send: string } | { readonly expect: string; readonly signal: number };

// The driver forks the command onto a new pty (so /dev/tty is that pty), types each answer once
// its prompt has appeared after the previous one, and copies the terminal output to stdout.
const DRIVER = String.raw`
import json, os, pty, select, sys, time
answers = json.loads(os.environ.pop("PTY_ANSWERS"))
deadline = time.time() + float(os.environ.pop("PTY_TIMEOUT"))
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
pos = 0
def pump(t):
    global out
    r, _, _ = select.select([fd], [], [], t)
    if not r:
        return True
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        return False
    if not chunk:
        return False
    out += chunk
    return True
alive = True
for a in answers:
    want = a["expect"].encode()
    while alive and out.find(want, pos) < 0 and time.time() < deadline:
        alive = pump(0.1)
    i = out.find(want, pos)
    if i < 0:
        break
    pos = i + len(want)
    if "signal" in a:
        os.kill(pid, a["signal"])
    else:
        os.write(fd, a["send"].encode())
while alive and time.time() < deadline:
    alive = pump(0.2)
if time.time() >= deadline:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status) & 0xff)
`;

/** Runs `argv` on a fresh pty with `env`, typing `answers` in order; resolves when it exits. */
export function runInPty(argv: readonly string[], answers: readonly PtyAnswer[], env: Record<string, string | undefined>, timeoutMs = 60_000): Promise<PtyResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', DRIVER, ...argv], {
      env: { ...env, PTY_ANSWERS: JSON.stringify(answers), PTY_TIMEOUT: String(timeoutMs / 1000) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}
