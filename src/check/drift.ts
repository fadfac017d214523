import type { PipelineResult } from '../engine/pipeline.js';
import type { Action } from '../engine/plan.js';

/** How a file differs from what `update` would leave, as `infra-stack check` reports it. */
export type FileState = 'edited by you' | 'generator has changes' | 'both' | 'missing' | 'conflict pending';

export interface Drift {
  path: string;
  state: FileState;
  /** Fails the check: an update would write it, or a conflict waits for the person. */
  fails: boolean;
}

/**
 * Each file whose state is not "as generated and current", from a dry run of `update`. Local
 * secrets files (.env, secrets.env) are git-ignored, so a clone lacks them: they never count.
 */
export function drift(result: PipelineResult): Drift[] {
  const out: Drift[] = [];
  for (const entry of result.plan.entries) {
    if (result.tree.get(entry.path)?.ownership === 'env') continue;
    const state = stateOf(entry.action, Boolean(entry.write), result.plan.previousFiles[entry.path] !== undefined);
    if (state) out.push({ path: entry.path, state, fails: state !== 'edited by you' });
  }
  return out;
}

function stateOf(action: Action, writes: boolean, recorded: boolean): FileState | null {
  switch (action) {
    case 'UNCHANGED':
      return null;
    case 'KEPT':
      return 'edited by you';
    case 'CREATE':
      return recorded ? 'missing' : 'generator has changes';
    case 'UPDATE':
    case 'DELETE':
      return 'generator has changes';
    case 'MERGED':
      return 'both';
    case 'CONFLICT':
      // A CONFLICT that writes nothing is one an earlier run left: markers still in the file.
      return writes ? 'both' : 'conflict pending';
  }
}
