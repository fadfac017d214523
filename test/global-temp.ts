// Every test run gets a temporary folder of its own, removed when the run ends: the test files,
// the CLIs they start and those CLIs' children (openssl's scratch folder) make theirs under
// TMPDIR, so a run leaves nothing in /tmp (thousands of folders after a few runs slowed the disk).
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'infra-stack-tests-'));
  chmodSync(dir, 0o1777); // as /tmp: tests run the CLI as other users, who must reach their folders
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
