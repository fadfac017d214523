import type { TreeAction } from '../src/engine/actions.js';
import type { TemplateSet } from '../src/engine/templates.js';
import { resolveEnv, type EnvGroup } from '../src/model/env.js';
import type { StackModel } from '../src/model/stack-model.js';

/** Files that hold secrets: only they see the secret values, and re-runs only append to them. */
const ENV_FILE = '.env';

/**
 * One `tree-add` action per generated file: every template of the stack's families, with
 * `__service__` in a path expanded once per service and `__domain__` replaced by the domain.
 */
export function renderActions(model: StackModel, templates: TemplateSet, secrets: Record<string, string>): TreeAction[] {
  const shared = { ...model, envExample: envLines(model.env, null) };
  const actions: TreeAction[] = [];
  for (const [key, t] of [...templates.templates].sort(([a], [b]) => a.localeCompare(b))) {
    if (!model.families.includes(t.family)) continue;
    const output = t.output.replaceAll('__domain__', model.domain);
    if (output.includes('__service__')) {
      for (const service of model.services) {
        const path = output.replaceAll('__service__', service.name);
        actions.push({ type: 'tree-add', path, template: key, context: { ...shared, service }, ownership: 'generated' });
      }
    } else if (output === ENV_FILE) {
      const context = { ...model, envLocal: envLines(model.env, secrets) };
      actions.push({ type: 'tree-add', path: output, template: key, context, ownership: 'env' });
    } else {
      actions.push({ type: 'tree-add', path: output, template: key, context: shared, ownership: 'generated' });
    }
  }
  return actions;
}

function envLines(groups: EnvGroup[], secrets: Record<string, string> | null) {
  const values = resolveEnv(groups, secrets);
  return groups.map((g) => ({
    title: g.title,
    vars: g.vars.map((v) => ({ key: v.key, comment: v.comment, value: v.secret && !secrets ? '' : values.get(v.key)! })),
  }));
}
