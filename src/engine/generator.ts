import type { StackConfig } from '../model/types.js';
import type { TreeAction } from './actions.js';

/**
 * What the engine runs (a plop generator): prompts give the answers, actions fill the tree.
 * generators/ implements it; engine/generate.ts runs it, with or without node-plop.
 */
export interface Generator {
  name: string;
  description: string;
  prompts: () => Promise<StackConfig>;
  actions: (config: StackConfig) => TreeAction[];
}
