import type { TreeAction } from '../src/engine/actions.js';
import type { TemplateSet } from '../src/engine/templates.js';
import { resolveEnv, type EnvGroup } from '../src/model/env.js';
import type { StackModel } from '../src/model/stack-model.js';
import { isSkipped } from '../src/model/validate.js';

/** Files that hold secrets: only they see the secret values, and re-runs only append to them. */
const ENV_FILE = '.env';
/** Each k8s environment's own secrets (k8s/overlays/<env>/secrets.env): fresh values, append-only like .env. */
const SECRETS_ENV = '/secrets.env';

/** Path placeholders repeated once per item of the model; the item is in the context under a name. */
const REPEATS: [placeholder: string, name: string, items: (m: StackModel) => { name: string }[]][] = [
  ['__service__', 'service', (m) => m.services],
  ['__data__', 'dataService', (m) => m.k8s?.data ?? []],
  ['__overlay__', 'overlay', (m) => m.k8s?.overlays ?? []],
];

/**
 * One `tree-add` action per generated file: every template of the stack's families, with
 * `__service__` (`__data__`, `__overlay__`) in a path expanded once per service (k8s data service,
 * k8s environment) and `__domain__` replaced by the domain.
 */
export function renderActions(
  model: StackModel,
  templates: TemplateSet,
  secrets: Record<string, string>,
  freshSecrets: () => Record<string, string> = () => secrets,
): TreeAction[] {
  const shared = { ...model, envExample: envLines(model.env, null) };
  const actions: TreeAction[] = [];
  for (const [key, t] of [...templates.templates].sort(([a], [b]) => a.localeCompare(b))) {
    if (!model.families.includes(t.family)) continue;
    const output = t.output.replaceAll('__domain__', model.domain);
    const repeat = REPEATS.find(([placeholder]) => output.includes(placeholder));
    if (repeat) {
      const [placeholder, name, items] = repeat;
      for (const item of items(model)) {
        const path = output.replaceAll(placeholder, item.name);
        if (path.endsWith(SECRETS_ENV)) {
          const context = { ...shared, [name]: item, envLocal: envLines(model.k8s?.secretGroups ?? [], freshSecrets()) };
          actions.push({ type: 'tree-add', path, template: key, context, ownership: 'env' });
        } else {
          actions.push({ type: 'tree-add', path, template: key, context: { ...shared, [name]: item }, ownership: 'generated' });
        }
      }
    } else if (output === ENV_FILE) {
      const context = { ...model, envLocal: envLines(model.env, secrets) };
      actions.push({ type: 'tree-add', path: output, template: key, context, ownership: 'env' });
    } else {
      actions.push({ type: 'tree-add', path: output, template: key, context: shared, ownership: 'generated' });
    }
  }
  // Files the answers skip are left to the person: no action renders them.
  return actions.filter((action) => !isSkipped(model.config, action.path));
}

function envLines(groups: EnvGroup[], secrets: Record<string, string> | null) {
  const values = resolveEnv(groups, secrets);
  return groups.map((g) => ({
    title: g.title,
    vars: g.vars.map((v) => ({ key: v.key, comment: v.comment, value: v.secret && !secrets ? '' : values.get(v.key)! })),
  }));
}
