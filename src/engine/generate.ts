import type { StackConfig } from '../model/types.js';
import { treeActionTypes } from './actions.js';
import { formatTree } from './format.js';
import type { Generator } from './generator.js';
import type { TemplateSet } from './templates.js';
import type { Tree } from './tree.js';

export interface Generated {
  config: StackConfig;
  tree: Tree;
}

/**
 * Runs a generator: its prompts, then its actions into a new tree, then formatting.
 * With `viaPlop`, node-plop drives prompts and actions (the interactive path). Without it the
 * same actions run here directly: node-plop loads inquirer 9 and rxjs (~200 ms), which a run
 * with every answer given should not pay.
 */
export async function generate(
  generator: Generator,
  templates: TemplateSet,
  viaPlop: boolean,
  formatAll = false,
): Promise<Generated> {
  const tree: Tree = new Map();
  const types = await treeActionTypes(tree, templates);
  let config: StackConfig;
  if (viaPlop) {
    const { default: nodePlop } = await import('node-plop');
    const plop = await nodePlop('', { destBasePath: process.cwd(), force: false });
    for (const [name, fn] of Object.entries(types)) plop.setActionType(name, fn as never);
    plop.setGenerator(generator.name, generator as never);
    const plopGenerator = plop.getGenerator(generator.name);
    config = (await plopGenerator.runPrompts()) as StackConfig;
    const { failures } = await plopGenerator.runActions(config as never);
    // node-plop records an action that throws at once as the Error itself, otherwise as {path, error}.
    const failure = failures[0] as unknown;
    if (failure instanceof Error) throw failure;
    if (failure) throw new Error(`${(failure as { path: string }).path}: ${(failure as { error: string }).error}`);
  } else {
    config = await generator.prompts();
    for (const action of generator.actions(config)) types[action.type](config, action);
  }
  await formatTree(tree, formatAll);
  return { config, tree };
}
