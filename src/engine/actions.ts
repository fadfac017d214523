import { TemplateError } from '../model/errors.js';
import { createRenderer } from './render.js';
import type { TemplateSet } from './templates.js';
import type { Ownership, Tree } from './tree.js';

/** Plop's `add` action, aimed at the in-memory tree instead of the disk. */
export interface TreeAddAction {
  type: 'tree-add';
  path: string;
  /** Template key: `<family>/<output path>` without `.hbs`. */
  template: string;
  context: object;
  ownership: Ownership;
}

/** Puts content computed elsewhere (infra-stack.yaml) into the tree. */
export interface TreeWriteAction {
  type: 'tree-write';
  path: string;
  content: string;
  ownership: Ownership;
}

export type TreeAction = TreeAddAction | TreeWriteAction;
export type ActionType = (answers: unknown, action: TreeAction) => string;

/** The custom plop action types, bound to one tree. */
export async function treeActionTypes(tree: Tree, templates: TemplateSet): Promise<Record<TreeAction['type'], ActionType>> {
  const render = await createRenderer(templates);
  const put = (path: string, content: string, source: string, ownership: Ownership, format: boolean) => {
    if (tree.has(path)) throw new Error(`${source} renders ${path}, which ${tree.get(path)!.source} renders too`);
    tree.set(path, { content, source, ownership, format, ...(path.endsWith('.sh') ? { mode: 0o755 } : {}) });
    return path;
  };
  return {
    'tree-add': (_answers, action) => {
      const a = action as TreeAddAction;
      const template = templates.templates.get(a.template);
      if (!template) throw new Error(`No template ${a.template}`);
      const other = tree.get(a.path);
      if (other && (!template.builtin || other.format)) {
        // Two templates for one file, one of them the team's: the team meant to replace the other.
        const [team, builtin] = template.builtin ? [other.source.replace(/^templates\//, ''), template.id] : [template.id, other.source];
        throw new TemplateError(team, null, `renders ${a.path}, which ${builtin} renders too: put it at that template's path to replace it`);
      }
      return put(a.path, render(a.template, a.context), `templates/${template.id}`, a.ownership, !template.builtin);
    },
    'tree-write': (_answers, action) => {
      const a = action as TreeWriteAction;
      return put(a.path, a.content, a.path, a.ownership, false);
    },
  };
}
