import type { Generator } from '../src/engine/generator.js';
import type { TemplateSet } from '../src/engine/templates.js';
import type { EnvGroup } from '../src/model/env.js';
import { buildModel } from '../src/model/stack-model.js';
import { STACK_FILE } from '../src/model/stack-file.js';
import type { StackConfig } from '../src/model/types.js';
import { generatedPaths, renderActions } from './render-actions.js';

export interface StackGeneratorInput {
  templates: TemplateSet;
  /** Fresh values for the stack's secrets (random in the CLI, fixed in tests). */
  secrets: (env: EnvGroup[]) => Record<string, string>;
  /** Asks for what is missing (or nothing) and returns validated answers. */
  ask: () => Promise<StackConfig>;
  /** The text of infra-stack.yaml for these answers (new, or the person's file edited). */
  stackFile: (config: StackConfig) => string;
}

/**
 * The whole stack for a set of answers. `create`, `add service` and `update` are this
 * generator with different answers and a different infra-stack.yaml.
 */
export function stackGenerator(input: StackGeneratorInput): Generator {
  return {
    name: 'stack',
    description: 'Every infrastructure file for the answers',
    prompts: input.ask,
    actions: (config) => {
      const model = buildModel(config);
      return [
        { type: 'tree-write', path: STACK_FILE, content: input.stackFile(config), ownership: 'answers' },
        ...renderActions(model, input.templates, () => input.secrets(model.env)),
      ];
    },
    paths: (config) => [STACK_FILE, ...generatedPaths(config, input.templates)],
  };
}
