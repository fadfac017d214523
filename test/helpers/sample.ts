// Starts the sample service of the generated repos (templates/sample/.../src/index.js) as a process.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, killOnExit } from './services.js';

export const SAMPLE = fileURLToPath(new URL('../../templates/sample/services/__service__/src/index.js', import.meta.url));

export interface Sample {
  base: string;
  port: number;
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/** Every sample still running: a test file's afterAll stops them. */
export const samples = new Set<Sample>();

/** Starts the sample on a free port; resolves once it reported 'ready' over IPC (PM2 wait_ready). */
export async function startSample(env: Record<string, string>): Promise<Sample> {
  const port = await freePort();
  const child = killOnExit(
    spawn(process.execPath, [SAMPLE], {
      // A clean env: only what we pass, so the host's variables cannot leak in.
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), HEALTH_TIMEOUT_MS: '3000', ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    }),
  );
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const sample: Sample = {
    base: `http://127.0.0.1:${port}`,
    port,
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      samples.delete(sample);
    },
  };
  samples.add(sample);
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m) => m === 'ready' && resolve());
    void exited.then(({ code }) => reject(new Error(`sample exited early (code ${code}):\n${out}`)));
  });
  await Promise.race([ready, new Promise((_, reject) => setTimeout(() => reject(new Error(`sample not ready:\n${out}`)), 10_000))]);
  return sample;
}
