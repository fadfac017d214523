import { fstatSync, writeSync } from 'node:fs';

/**
 * Whether `fd` is a terminal. A pipe or a file is known by fstat, without node:tty: it loads
 * node:net, and both cost ~2 ms of a small run's ~90 on a 2-core machine.
 */
export function isTerminal(fd: number): boolean {
  try {
    if (!fstatSync(fd).isCharacterDevice()) return false;
  } catch {
    return false; // closed
  }
  return process.getBuiltinModule('node:tty').isatty(fd);
}

/** Questions can be asked only with a terminal on both ends (stdout first: known without node:tty when piped). */
export function interactive(): boolean {
  return isTerminal(1) && isTerminal(0);
}

let stream: boolean | undefined;
let readerGone = false;

/**
 * Writes to stdout: a terminal through process.stdout; a pipe or a file directly, as
 * process.stdout is for a pipe a net.Socket (~3 ms to load and build). A reader that stopped
 * early (`| head`: EPIPE) gets nothing more and the run goes on: what it prints only shows what
 * it did. A full non-blocking pipe (EAGAIN) hands the rest to process.stdout, which waits.
 */
export function writeStdout(text: string): void {
  if (readerGone) return;
  if ((stream ??= isTerminal(1))) {
    process.stdout.write(text);
    return;
  }
  const bytes = Buffer.from(text);
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(1, bytes, written);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') return void (readerGone = true);
    if (code !== 'EAGAIN') throw error;
    stream = true;
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      readerGone = true;
    });
    process.stdout.write(bytes.subarray(written));
  }
}
