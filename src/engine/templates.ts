import { closeSync, constants, lstatSync, openSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../model/errors.js';
import { BUNDLED, PACKAGE_ROOT } from '../version.js';
import { readOpen, unsafePathReason } from './disk.js';
import { builtinText, loadPrecompiled, precompiledHash } from './render.js';

/** The templates shipped with the package. */
export const BUILTIN_TEMPLATES = join(PACKAGE_ROOT, 'templates');

/** More files than any template folder has: a `templates:` aimed at a big tree is refused. */
const MAX_TEMPLATE_FILES = 5000;

/**
 * Where a repository's templates come from: its team folder (infra-stack.yaml `templates`,
 * relative to the repository) before the built-in ones.
 *
 * infra-stack.yaml is a file anyone can commit, so on its own it may point only inside the
 * repository (a folder or an installed package under node_modules/). A folder outside is used
 * only when the person names it: `--templates`, or a `--preset` they chose (`explicit`).
 */
export function templateRoots(repoDir: string, teamFolder: string | undefined, explicit = false): string[] {
  if (teamFolder === undefined) return [BUILTIN_TEMPLATES];
  const team = resolve(repoDir, teamFolder);
  let real: string;
  try {
    real = realpathSync(team);
  } catch {
    throw new UsageError(`The team template folder ${team} (templates: ${teamFolder} in infra-stack.yaml or --templates) does not exist.`);
  }
  if (!statSync(real).isDirectory()) throw new UsageError(`The team template folder ${team} is not a folder.`);
  if (!explicit) {
    let repo = repoDir;
    try {
      repo = realpathSync(repoDir);
    } catch {
      // a repository not created yet: nothing can be inside it
    }
    const inside = relative(repo, real);
    if (inside.startsWith('..') || resolve(repo, inside) !== real) {
      throw new UsageError(
        `infra-stack.yaml says templates: ${teamFolder}, a folder outside the repository; infra-stack.yaml alone may only point inside it. If you trust that folder, pass it yourself: --templates ${teamFolder}`,
      );
    }
  }
  return [real, BUILTIN_TEMPLATES];
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
  /** The build's hash of `text`: a built-in template in the bundle, whose text loads only if read. */
  hash?: string;
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
    for (const { id, text } of root === BUILTIN_TEMPLATES ? builtinFiles() : walk(root)) {
      const [family, ...rest] = id.split('/');
      const key = id.replace(/\.hbs$/, '');
      if (text === undefined) {
        // A built-in template the bundle has precompiled: its spec's hash, its text only if read.
        const template = { id, family, output: rest.join('/').replace(/\.hbs$/, ''), handlebars: true, builtin: true, hash: precompiledHash(key) };
        templates.set(key, Object.defineProperty(template, 'text', { get: () => builtinText(id), enumerable: true }) as Template);
        continue;
      }
      if (family === 'partials') {
        partials.set(rest.join('/').replace(/\.hbs$/, ''), text);
        continue;
      }
      templates.set(key, {
        id,
        family,
        output: rest.join('/').replace(/\.hbs$/, ''),
        handlebars: id.endsWith('.hbs'),
        builtin: root === BUILTIN_TEMPLATES,
        text,
      });
    }
  }
  return { templates, partials };
}

/**
 * The built-in template files. The bundle has them in dist/templates.precompiled.cjs, built from
 * templates/ with it (reading 77 files costs ~3 ms); from source (tests), templates/ is read, as
 * it may be newer than the last build.
 */
function builtinFiles(): { id: string; text?: string }[] {
  return BUNDLED ? loadPrecompiled().files : walk(BUILTIN_TEMPLATES);
}

/**
 * Every file under a template root. Only regular files and folders: a symbolic link (which
 * could reach /etc/shadow), a FIFO (which would hang the run) or a device is refused, naming it.
 */
function walk(root: string): { id: string; text: string }[] {
  const files: { id: string; text: string }[] = [];
  const visit = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (error) {
      if (dir === root && (error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const name of names.sort()) {
      const path = join(dir, name);
      const id = relative(root, path).split(sep).join('/');
      const refuse = (what: string) =>
        new UsageError(`${JSON.stringify(path)} is ${what}; a template folder may hold only regular files and folders.`);
      const unsafe = unsafePathReason(id);
      if (unsafe) throw refuse(unsafe);
      const st = lstatSync(path);
      if (st.isSymbolicLink()) throw refuse('a symbolic link');
      if (st.isDirectory()) visit(path);
      else if (!st.isFile()) throw refuse('not a regular file (a FIFO, socket or device)');
      else {
        if (files.length >= MAX_TEMPLATE_FILES) throw new UsageError(`Template folder ${root} holds more than ${MAX_TEMPLATE_FILES} files: is it the right folder?`);
        const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
        try {
          files.push({ id, text: readOpen(fd, `${root}/${id}`).toString('utf8') });
        } finally {
          closeSync(fd);
        }
      }
    }
  };
  visit(root);
  return files;
}
