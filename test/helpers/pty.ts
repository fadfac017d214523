// Runs a command on a real pseudo-terminal (node-pty), so a test can answer its questions
// as a person would: wait for a prompt's text on screen, then type.
import { createRequire } from 'node:module';
import type { IPty } from 'node-pty';

// node-pty is a native addon built by node-gyp at `npm ci` (it has no prebuilt binary for
// Linux). Loaded lazily so a broken build fails with a clear message, not an import error.
const require = createRequire(import.meta.url);
function loadNodePty(): typeof import('node-pty') {
  try {
    return require('node-pty') as typeof import('node-pty');
  } catch (error) {
    throw new Error(
      `node-pty could not be loaded (${(error as Error).message}). It is a native addon built by node-gyp ` +
        'at install time: run `npm ci` (or `npm rebuild node-pty`) with python3, make and g++ on the machine.',
    );
  }
}

export interface PtyOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  cols?: number;
  rows?: number;
}

export interface PtyExit {
  code: number | null;
  signal: NodeJS.Signals | number | null;
}

export interface PtyProcess {
  /**
   * Resolves with the screen text (ANSI escapes stripped) once `pattern` shows up in what was
   * printed after the previous successful waitFor; rejects after `timeoutMs`, or if the process
   * exits first, with the text seen so far. Each match moves the start of the next search past it,
   * so waiting for the same prompt twice waits for it to be drawn again.
   */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Sends keys, as typed: '\r' is Enter, '\x1b[B' the down arrow, '\x03' Ctrl-C, '\x15' Ctrl-U. */
  write(data: string): void;
  /** Settles when the process has exited. */
  exit: Promise<PtyExit>;
  /** Everything printed so far, ANSI escapes stripped. */
  output(): string;
  /** Everything printed so far, as sent to the terminal. */
  rawOutput(): string;
  /** Kills the process (and its group) if it is still running. */
  kill(): void;
}

// CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), other two-byte ESC sequences, then C1 CSI.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;

/** The text without terminal escapes and carriage returns (the pty turns '\n' into '\r\n'). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '').replace(/\r/g, '');
}

const live = new Set<PtyProcess>();

/** Kills every pty process still running (for afterEach). */
export function killAllPtys(): void {
  for (const p of live) p.kill();
}

export function spawnPty(cmd: string, args: string[], options: PtyOptions = {}): PtyProcess {
  const nodePty = loadNodePty();
  const env = { TERM: 'xterm-256color', ...(options.env ?? process.env) };
  const term: IPty = nodePty.spawn(cmd, args, {
    name: env.TERM ?? 'xterm-256color',
    cols: options.cols ?? 120,
    rows: options.rows ?? 40,
    cwd: options.cwd ?? process.cwd(),
    env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>,
  });

  let raw = '';
  let searchFrom = 0; // offset in the stripped text where the next waitFor starts looking
  let exited = false; // the process has exited
  let finished = false; // ...and the output it printed before has been delivered
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };

  term.onData((chunk) => {
    raw += chunk;
    notify();
  });

  const exit = new Promise<PtyExit>((resolve) => {
    term.onExit(({ exitCode, signal }) => {
      exited = true;
      live.delete(proc);
      // Let the last data events (already read from the pty) be delivered first.
      setImmediate(() => {
        finished = true;
        resolve({ code: signal ? null : exitCode, signal: signal ? signal : null });
        notify();
      });
    });
  });

  const find = (pattern: string | RegExp): { text: string; end: number } | null => {
    const text = stripAnsi(raw);
    const rest = text.slice(searchFrom);
    if (typeof pattern === 'string') {
      const at = rest.indexOf(pattern);
      return at < 0 ? null : { text, end: searchFrom + at + pattern.length };
    }
    const match = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(rest);
    return match ? { text, end: searchFrom + match.index + match[0].length } : null;
  };

  const proc: PtyProcess = {
    waitFor(pattern, timeoutMs = 10_000) {
      return new Promise<string>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        let settled = false;
        const done = () => {
          settled = true;
          listeners.delete(check);
          clearTimeout(timer);
        };
        const fail = (why: string) => {
          done();
          const seen = stripAnsi(raw).slice(searchFrom);
          reject(new Error(`waitFor(${String(pattern)}): ${why}. Screen text since the last match:\n${seen}`));
        };
        const check = () => {
          if (settled) return;
          const found = find(pattern);
          if (found) {
            done();
            searchFrom = found.end;
            resolve(found.text);
          } else if (finished) {
            listeners.delete(check);
            void exit.then(({ code, signal }) => fail(`the process exited (code ${code}, signal ${signal})`));
          }
        };
        timer = setTimeout(() => fail(`not seen within ${timeoutMs} ms`), timeoutMs);
        listeners.add(check);
        check();
      });
    },
    write(data) {
      if (!exited) term.write(data);
    },
    exit,
    output: () => stripAnsi(raw),
    rawOutput: () => raw,
    kill() {
      if (exited) return;
      try {
        process.kill(-term.pid, 'SIGKILL'); // the pty's child leads its own process group
      } catch {
        try {
          term.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    },
  };
  live.add(proc);
  return proc;
}
