import { parseAllDocuments } from 'yaml';
import { TemplateError } from '../model/errors.js';
import type { Tree, TreeFile } from './tree.js';

type Prettier = typeof import('prettier/standalone');

const PARSERS: Record<string, string> = { yaml: 'yaml', yml: 'yaml', json: 'json', md: 'markdown' };
let prettier: Promise<{ format: Prettier['format']; plugins: unknown[] }> | undefined;

/** prettier is loaded on first use only: most commands that print help never need it. */
function loadPrettier() {
  prettier ??= Promise.all([
    import('prettier/standalone'),
    import('prettier/plugins/yaml'),
    import('prettier/plugins/markdown'),
    import('prettier/plugins/babel'),
    import('prettier/plugins/estree'),
  ]).then(([standalone, ...plugins]) => ({ format: standalone.format, plugins }));
  return prettier;
}

function parserFor(path: string): string | undefined {
  const ext = path.slice(path.lastIndexOf('.') + 1);
  return path.includes('.') ? PARSERS[ext] : undefined;
}

/**
 * Formats YAML, JSON and Markdown with prettier, and parses every YAML/JSON file it formats
 * back (a template that renders something unparsable is an error naming the template).
 *
 * This runs on the files marked `format` (what a team's own templates rendered), or on all with
 * `all`. The built-in templates are neither formatted nor parsed at run time: they render
 * prettier-clean, parsable output for every combination of answers (test/matrix.test.ts and
 * test/k8s.test.ts prove it with the real validators), the values they receive are validated
 * to a safe alphabet first, and parsing ~50 YAML files costs more than writing them.
 */
export async function formatTree(tree: Tree, all = false): Promise<void> {
  const jobs = [...tree].filter(([path, file]) => (all || file.format) && parserFor(path));
  if (jobs.length === 0) return;
  const { format, plugins } = await loadPrettier();
  for (const [path, file] of jobs) {
    assertParses(path, file);
    const parser = parserFor(path)!;
    try {
      file.content = await format(file.content, { parser, plugins: plugins as never, printWidth: 100, proseWrap: 'preserve' });
    } catch (error) {
      throw failure(file, `rendered ${path}, which prettier cannot format`, error as Error);
    }
    assertParses(path, file);
  }
}

function assertParses(path: string, file: TreeFile): void {
  const { content } = file;
  const parser = parserFor(path);
  try {
    if (parser === 'json') JSON.parse(content);
    if (parser === 'yaml') {
      for (const doc of parseAllDocuments(content, { merge: true })) {
        if (doc.errors.length) throw doc.errors[0];
      }
    }
  } catch (error) {
    throw failure(file, `rendered ${path}, which does not parse`, error as Error);
  }
}

/** Only files from a team's templates are formatted: their failures are the team's input (exit 2). */
function failure(file: TreeFile, what: string, error: Error): Error {
  const problem = `${what}: ${error.message.split('\n')[0]}`;
  if (!file.format) return new Error(`${file.source} ${problem}`);
  return new TemplateError(file.source.replace(/^templates\//, ''), null, problem);
}
