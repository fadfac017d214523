import type { TreeAction } from '../src/engine/actions.js';
import type { TemplateSet } from '../src/engine/templates.js';
import { resolveEnv, type EnvGroup } from '../src/model/env.js';
import { byCodeUnit } from '../src/model/order.js';
import { buildModel, isSkipped, type StackModel } from '../src/model/stack-model.js';
import type { StackConfig } from '../src/model/types.js';

/**
 * Files that hold secrets, and the variables each holds: only they see secret values, and
 * re-runs only append to them. `.env` for compose and the host; each k8s environment's
 * k8s/overlays/<env>/secrets.env gets values of its own.
 */
function envFileGroups(path: string, model: StackModel): EnvGroup[] | null {
  if (path === '.env') return model.env;
  if (path.endsWith('/secrets.env')) return model.k8s?.secretGroups ?? [];
  return null;
}

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
  /** Fresh values for the secrets: each secrets file gets its own set. */
  secrets: () => Record<string, string>,
): TreeAction[] {
  // The root package.json pins the generator, its hooks' tools and the team preset the templates came from,
  // in the order `npm install -D` keeps (for lowercase package names, code-unit order is npm's).
  const rootDevDependencies = [...model.ops.devDependencies, ...(templates.preset ? [templates.preset] : [])].sort((a, b) =>
    byCodeUnit(a.name, b.name),
  );
  const shared = { ...model, envExample: envLines(model.env, null), rootDevDependencies };
  const action = (path: string, template: string, context: object): TreeAction => {
    const groups = envFileGroups(path, model);
    // .gitignore files are the person's too: later runs only append the lines they miss.
    if (!groups) return { type: 'tree-add', path, template, context, ownership: path.endsWith('.gitignore') ? 'lines' : 'generated' };
    const env = { groups, secrets: secrets() };
    return { type: 'tree-add', path, template, context: { ...context, envLocal: envLines(groups, env.secrets) }, ownership: 'env', env };
  };
  const actions: TreeAction[] = [];
  for (const [key, t] of [...templates.templates].sort(([a], [b]) => byCodeUnit(a, b))) {
    if (!model.families.includes(t.family)) continue;
    const output = t.output.replaceAll('__domain__', model.domain);
    const repeat = REPEATS.find(([placeholder]) => output.includes(placeholder));
    if (repeat) {
      const [placeholder, name, items] = repeat;
      for (const item of items(model)) actions.push(action(output.replaceAll(placeholder, item.name), key, { ...shared, [name]: item }));
    } else {
      actions.push(action(output, key, shared));
    }
  }
  // Files the answers skip are left to the person: no action renders them.
  return actions.filter((action) => !isSkipped(model.config, action.path));
}

/** The paths the generator writes for these answers, before `skip:` takes any away. */
export function generatedPaths(config: StackConfig, templates: TemplateSet): string[] {
  return renderActions(buildModel({ ...config, skip: [] }), templates, () => ({})).map((action) => action.path);
}

function envLines(groups: EnvGroup[], secrets: Record<string, string> | null) {
  const values = resolveEnv(groups, secrets);
  return groups.map((g) => ({
    title: g.title,
    vars: g.vars.map((v) => ({ key: v.key, comment: v.comment, value: v.secret && !secrets ? '' : values.get(v.key)! })),
  }));
}
