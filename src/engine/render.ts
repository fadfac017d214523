import { createRequire } from 'node:module';
import { join } from 'node:path';
import HandlebarsRuntime from 'handlebars/runtime';
import { stringify } from 'yaml';
import { runFunctionFile, runWithCodeCache } from '../code-cache.js';
import { required } from '../model/env.js';
import { TemplateError } from '../model/errors.js';
import { BUNDLED, PACKAGE_ROOT } from '../version.js';
import type { TemplateSet } from './templates.js';
import { textHash } from './tree.js';

const require = createRequire(import.meta.url);

/** Built at `npm run build` by scripts/build.js: template key -> hash (tree.ts textHash) and spec. */
export const PRECOMPILED_PATH = join(PACKAGE_ROOT, 'dist', 'templates.precompiled.cjs');
/** Built with it: the texts of the precompiled templates, which a run does not read. */
export const TEXTS_PATH = join(PACKAGE_ROOT, 'dist', 'templates.text.cjs');
/** The helpers a template may call, besides Handlebars' own (each, if, with, lookup...). */
const HELPERS = {
  /** A YAML/JSON double-quoted string: safe for any value. */
  quote: (value: unknown) => JSON.stringify(String(value)),
  /** JSON on one line, or `{{json value 2}}` as a whole file indented by 2 (prettier's layout for objects). */
  json: (value: unknown, indent: unknown) => JSON.stringify(value, null, typeof indent === 'number' ? indent : undefined),
  join: (items: unknown[], separator: unknown) => items.join(typeof separator === 'string' ? separator : ', '),
  eq: (a: unknown, b: unknown) => a === b,
  /** A value as block YAML, every line indented by `spaces`: for settings the model holds as data. */
  yaml: (value: unknown, spaces: number) =>
    stringify(value, { lineWidth: 0 })
      .trimEnd()
      .split('\n')
      .map((line) => ' '.repeat(spaces) + line)
      .join('\n'),
  /** A required compose variable: `${KEY:?...}` makes compose refuse to start without it. */
  env: (key: string) => required(key),
};

/**
 * `knownHelpersOnly`: any other name is a value, looked up without asking first whether it is a
 * helper, and a template calling an unknown helper fails to compile, naming it. Smaller and faster
 * template code (the built-ins' precompiled file: 8% smaller).
 */
export const COMPILE_OPTIONS = {
  strict: true,
  noEscape: true,
  knownHelpersOnly: true,
  knownHelpers: Object.fromEntries(Object.keys(HELPERS).map((name) => [name, true])),
};

type Spec = { hash: string; spec: TemplateSpecification };
type TemplateSpecification = Parameters<typeof HandlebarsRuntime.template>[0];

type Hashed = { text: string; hash?: string };

/** A template's hash: the build's for a built-in one in the bundle (its text is not loaded); else its text's. */
export function hashOf(t: Hashed): string {
  return t.hash ?? textHash(t.text);
}

/**
 * A Handlebars environment of our own: strict (a missing field is an error, not an empty
 * string) and without HTML escaping (we write config files, not pages).
 *
 * The built-in templates come precompiled, so only the small runtime loads. A template
 * without a matching precompiled spec (a team's own, or a stale build) loads the compiler.
 */
export async function createRenderer(set: TemplateSet): Promise<(templateKey: string, data: object) => string> {
  const hb = HandlebarsRuntime.create();
  hb.registerHelper(HELPERS);
  const precompiled = loadPrecompiled();
  const partials = [...set.partials].map(([name, text]) => ({ name, key: `partials/${name}`, t: { text } }));
  const sources = [...[...set.templates].filter(([, t]) => t.handlebars).map(([key, t]) => ({ key, t })), ...partials];
  // By hash: a built-in template in the bundle carries the build's (its text is not even loaded);
  // anything else (a team's template, templates/ read from source) is hashed.
  const isReady = (key: string, t: Hashed) => precompiled.templates[key]?.hash === hashOf(t);
  const compiler = sources.every(({ key, t }) => isReady(key, t)) ? undefined : await import('handlebars');
  const toFunction = (key: string, t: Hashed) => {
    const spec = isReady(key, t) ? precompiled.templates[key].spec : compileSpec(compiler!.default, t.text);
    return hb.template(spec);
  };
  for (const { name, key, t } of partials) {
    try {
      hb.registerPartial(name, toFunction(key, t));
    } catch (error) {
      // Built-in partials come precompiled: one that does not compile is a team's.
      throw templateError(`${key}.hbs`, error as Error);
    }
  }
  const compiled = new Map<string, HandlebarsTemplateDelegate>();

  return (key, data) => {
    const template = set.templates.get(key);
    if (!template) throw new Error(`No template ${key}`);
    if (!template.handlebars) return template.text;
    try {
      let fn = compiled.get(key);
      if (!fn) {
        fn = toFunction(key, template);
        compiled.set(key, fn);
      }
      return fn(data);
    } catch (error) {
      // A team's template is input: name its file and line (exit 2). A built-in one failing is a bug.
      if (!template.builtin) throw templateError(template.id, error as Error & { lineNumber?: number });
      throw new Error(`templates/${template.id}: ${(error as Error).message}`);
    }
  };
}

/** Handlebars' parse errors say "Parse error on line N:" then the source; runtime errors carry lineNumber. */
function templateError(file: string, error: Error & { lineNumber?: number }): TemplateError {
  const lines = error.message.split('\n');
  const parsed = /^Parse error on line (\d+):/.exec(lines[0]);
  const line = parsed ? Number(parsed[1]) : (error.lineNumber ?? null);
  const unknownHelper = /used the unknown helper (\S+)/.exec(lines[0]);
  const problem = parsed
    ? `parse error: ${lines[lines.length - 1]}`
    : unknownHelper
      ? `no helper named ${unknownHelper[1]}: a template may call ${Object.keys(HELPERS).join(', ')} and Handlebars' own (if, unless, each, with, lookup)`
      : lines[0].replace(/ in (\[object Object\]|undefined)? ?- \d+:\d+$/, '');
  return new TemplateError(file, line, problem);
}

type HandlebarsTemplateDelegate = ReturnType<typeof HandlebarsRuntime.template>;

export interface Precompiled {
  templates: Record<string, Spec>;
  /**
   * Every built-in template file, in the order a walk of templates/ finds them; the text of a
   * precompiled one (a run renders its spec, and its hash is the spec's) is in dist/templates.text.cjs.
   */
  files: { id: string; text?: string }[];
}

let bundled: Precompiled | undefined;

/**
 * What scripts/build.js wrote in dist/templates.precompiled.cjs. A bundled run cannot go without
 * it, and runs it with a code cache; from source (tests) it may be missing (no build yet).
 */
export function loadPrecompiled(): Precompiled {
  if (!BUNDLED) {
    try {
      const exports = {};
      runFunctionFile(PRECOMPILED_PATH, { exports });
      return exports as Precompiled;
    } catch {
      return { templates: {}, files: [] };
    }
  }
  if (!bundled) {
    const exports = {};
    runWithCodeCache(PRECOMPILED_PATH, { exports });
    bundled = exports as Precompiled;
  }
  return bundled;
}

/** The hash of the text a built-in template's spec was compiled from. */
export function precompiledHash(key: string): string {
  return loadPrecompiled().templates[key].hash;
}

/** The text of a built-in template the bundle has precompiled: nothing a run does reads it, but it is there if read. */
export function builtinText(id: string): string {
  return (require(TEXTS_PATH) as { texts: Record<string, string> }).texts[id];
}

/** The full compiler (parser included): loaded only when a template was not precompiled. */
function compileSpec(compiler: typeof import('handlebars'), text: string): TemplateSpecification {
  const source = compiler.precompile(text, COMPILE_OPTIONS) as string;
  return new Function(`return ${source}`)() as TemplateSpecification;
}

