import Handlebars from 'handlebars';
import { required } from '../model/env.js';
import type { TemplateSet } from './templates.js';

/**
 * A Handlebars environment of our own: strict (a missing field is an error, not an empty
 * string) and without HTML escaping (we write config files, not pages).
 */
export function createRenderer(set: TemplateSet): (templateKey: string, data: object) => string {
  const hb = Handlebars.create();
  registerHelpers(hb);
  for (const [name, text] of set.partials) hb.registerPartial(name, text);
  const compiled = new Map<string, Handlebars.TemplateDelegate>();

  return (key, data) => {
    const template = set.templates.get(key);
    if (!template) throw new Error(`No template ${key}`);
    if (!template.handlebars) return template.text;
    let fn = compiled.get(key);
    if (!fn) {
      fn = hb.compile(template.text, { strict: true, noEscape: true });
      compiled.set(key, fn);
    }
    try {
      return fn(data);
    } catch (error) {
      throw new Error(`templates/${template.id}: ${(error as Error).message}`);
    }
  };
}

function registerHelpers(hb: typeof Handlebars): void {
  /** A YAML/JSON double-quoted string: safe for any value. */
  hb.registerHelper('quote', (value: unknown) => JSON.stringify(String(value)));
  hb.registerHelper('json', (value: unknown) => JSON.stringify(value));
  hb.registerHelper('join', (items: unknown[], separator: unknown) =>
    items.join(typeof separator === 'string' ? separator : ', '),
  );
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('includes', (items: unknown[], item: unknown) => items.includes(item));
  hb.registerHelper('prepend', (first: unknown, items: unknown[]) => [first, ...items]);
  /** A required compose variable: `${KEY:?...}` makes compose refuse to start without it. */
  hb.registerHelper('env', (key: string) => required(key));
  hb.registerHelper('upper', (value: unknown) => String(value).toUpperCase());
  /** `{{#unless @last}}`-free lists: renders block between items. */
  hb.registerHelper('indent', (spaces: number, text: string) =>
    text
      .split('\n')
      .map((line) => (line ? ' '.repeat(spaces) + line : line))
      .join('\n'),
  );
}
