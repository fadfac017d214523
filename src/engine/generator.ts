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
  /** Every path these answers generate, before `skip:` takes any away (a skip entry must name one). */
  paths: (config: StackConfig) => string[];
}
