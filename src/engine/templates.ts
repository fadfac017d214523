import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../model/errors.js';
import { PACKAGE_ROOT } from '../version.js';

/** The templates shipped with the package. */
export const BUILTIN_TEMPLATES = join(PACKAGE_ROOT, 'templates');

/**
 * Where a repository's templates come from: its team folder (infra-stack.yaml `templates`,
 * relative to the repository) before the built-in ones.
 */
export function templateRoots(repoDir: string, teamFolder: string | undefined): string[] {
  if (teamFolder === undefined) return [BUILTIN_TEMPLATES];
  const team = resolve(repoDir, teamFolder);
  if (!existsSync(team)) {
    throw new UsageError(`The team template folder ${team} (templates: ${teamFolder} in infra-stack.yaml or --templates) does not exist.`);
  }
  return [team, BUILTIN_TEMPLATES];
}

export interface Template {
  /** `<family>/<output path>[.hbs]`, e.g. `docker/services/__service__/Dockerfile.hbs`. */
  id: string;
  family: string;
  /** Output path with `__service__` still in it, without `.hbs`. */
  output: string;
  /** Rendered with Handlebars (`.hbs`) or copied as it is. */
  handlebars: boolean;
  /** Shipped with the package (its output is known to be prettier-clean). */
  builtin: boolean;
  text: string;
}

export interface TemplateSet {
  templates: Map<string, Template>;
  partials: Map<string, string>;
  /** The team preset package the team templates came from, pinned in the root package.json. */
  preset?: { name: string; version: string };
}

/**
 * Loads every template from the given roots. An earlier root wins for the same id, so a
 * team folder put before the built-in one overrides any single file by its path.
 */
export function loadTemplates(roots: string[]): TemplateSet {
  const templates = new Map<string, Template>();
  const partials = new Map<string, string>();
  for (const root of [...roots].reverse()) {
    for (const file of walk(root)) {
      const id = relative(root, file).split(sep).join('/');
      const text = readFileSync(file, 'utf8');
      const [family, ...rest] = id.split('/');
      if (family === 'partials') {
        partials.set(rest.join('/').replace(/\.hbs$/, ''), text);
        continue;
      }
      const handlebars = id.endsWith('.hbs');
      templates.set(id.replace(/\.hbs$/, ''), {
        id,
        family,
        output: rest.join('/').replace(/\.hbs$/, ''),
        handlebars,
        builtin: root === BUILTIN_TEMPLATES,
        text,
      });
    }
  }
  return { templates, partials };
}

function walk(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
