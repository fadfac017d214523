#!/usr/bin/env node
// Builds what the package ships: one bundle per bin (dist/<bin>.bundle.cjs, run by the bin
// dist/<bin>.cjs) holding every module a plain run needs, plus dist/lazy/, the libraries only some runs need,
// loaded on first use: the prompt library (questions), node-plop (questions), yaml (reading YAML,
// merges), prettier and its plugins (team templates), the Handlebars compiler (team templates),
// execa (git, npm install).
// Last, the built-in templates are precompiled into dist/templates.precompiled.cjs, so a run loads
// only the Handlebars runtime (its parser and compiler cost ~150 ms); each entry carries its
// template's hash, and the renderer compiles anything that does not match (a team's template).
// That file also holds every built-in template's text: a bundled run does not read templates/.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** What src/ imports with `import()`, the dist/lazy/ file it becomes, and what that file bundles. */
const LAZY = {
  './prompt-library.js': ['prompts', './src/cli/prompt-library.ts'],
  'node-plop': ['node-plop', 'node-plop'],
  'prettier/standalone': ['prettier', 'prettier/standalone'],
  'prettier/plugins/yaml': ['prettier-yaml', 'prettier/plugins/yaml'],
  'prettier/plugins/markdown': ['prettier-markdown', 'prettier/plugins/markdown'],
  'prettier/plugins/babel': ['prettier-babel', 'prettier/plugins/babel'],
  'prettier/plugins/estree': ['prettier-estree', 'prettier/plugins/estree'],
  handlebars: ['handlebars', 'handlebars'],
  execa: ['execa', 'execa'],
};

// CommonJS dependencies bundled into ES modules still call require() for Node's built-ins.
const requireShim = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20.19',
  format: 'esm',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
};

rmSync(`${root}dist`, { recursive: true, force: true });

// What the build needs from src/: the hash of the rendering code (baked in as BUILD_ID), the
// template loader and hash (for the precompiled templates). Bundled for this one use beside
// dist/ (where the loader finds the package root), then removed.
const helper = `${root}dist/build-helper.mjs`;
await build({
  ...common,
  minify: false,
  stdin: {
    contents: `export { sourceHash } from './src/source-hash.ts';
      export { BUILTIN_TEMPLATES, loadTemplates } from './src/engine/templates.ts';
      export { COMPILE_OPTIONS, PRECOMPILED_PATH, TEXTS_PATH } from './src/engine/render.ts';
      export { textHash } from './src/engine/tree.ts';
      export { asFunctionOf, BUNDLE_SCOPE, TEMPLATES_SCOPE } from './src/code-cache.ts';`,
    resolveDir: root,
  },
  outfile: helper,
  banner: { js: requireShim },
});
const { sourceHash, BUILTIN_TEMPLATES, COMPILE_OPTIONS, PRECOMPILED_PATH, TEXTS_PATH, loadTemplates, textHash, asFunctionOf, BUNDLE_SCOPE, TEMPLATES_SCOPE } =
  await import(helper);
rmSync(helper);
const define = { __BUILD_ID__: JSON.stringify(sourceHash(root)) };

const lazy = await build({
  ...common,
  define,
  metafile: true,
  entryPoints: Object.fromEntries(Object.values(LAZY)),
  outdir: 'dist/lazy',
  splitting: true, // what two lazy files share (Handlebars: the compiler and node-plop) loads once
  chunkNames: 'shared-[hash]',
  banner: { js: requireShim },
  // node-plop hands its own prompt library (inquirer 9, rxjs) to generators that ask through it.
  // Ours ask through @inquirer/input, select and confirm, so inquirer 9 is replaced: one prompt stack ships.
  alias: { inquirer: './src/cli/plop-inquirer.ts' },
});

/** `import('execa')` in a bin becomes `import('./lazy/execa.js')`, resolved beside the bin. */
const lazyImports = {
  name: 'lazy-imports',
  setup(b) {
    const names = Object.keys(LAZY).map((spec) => spec.replace(/[/@.]/g, '\\$&'));
    b.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      return { path: `./lazy/${LAZY[args.path][0]}.js`, external: true };
    });
  },
};

/**
 * yaml reads infra-stack.yaml and presets, merges and checks team templates' output, none of which
 * a plain create does: in the bins it is a stand-in whose exports load dist/lazy/yaml.cjs on first
 * use. Synchronously, as its callers are: the bins are CommonJS and so is that file.
 */
const lazyYaml = {
  name: 'lazy-yaml',
  setup(b) {
    const names = Object.keys(createRequire(import.meta.url)('yaml'));
    b.onResolve({ filter: /^yaml$/ }, () => ({ path: 'yaml', namespace: 'lazy-yaml' }));
    b.onLoad({ filter: /^yaml$/, namespace: 'lazy-yaml' }, () => ({
      contents: `let yaml;
        for (const name of ${JSON.stringify(names)}) {
          Object.defineProperty(exports, name, { enumerable: true, get: () => (yaml ??= require('./lazy/yaml.cjs'))[name] });
        }`,
    }));
    b.onResolve({ filter: /^\.\/lazy\/yaml\.cjs$/ }, (args) => ({ path: args.path, external: true }));
  },
};
const yaml = await build({ ...common, format: 'cjs', metafile: true, entryPoints: ['yaml'], outfile: 'dist/lazy/yaml.cjs' });

// Each bin is a launcher (dist/<bin>.cjs) that runs its bundle (dist/<bin>.bundle.cjs) with a V8
// code cache (src/bin/launch.ts). Both are CommonJS (.cjs: the package is "type": "module"): Node
// loads a CommonJS file ~5 ms faster than an ES module, which needs a module facade for each
// built-in it imports. The lazy files stay ES modules: the bundle's import() of one becomes
// __import(), which the launcher provides (code compiled by node:vm cannot import()).
const bins = await build({
  ...common,
  format: 'cjs',
  define: { ...define, 'import.meta.url': '__importMetaUrl' },
  metafile: true,
  entryPoints: { 'create-infra-stack.bundle': 'src/bin/create-infra-stack.ts', 'infra-stack.bundle': 'src/bin/infra-stack.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  write: false,
  banner: { js: `const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;` },
  plugins: [lazyImports, lazyYaml],
});
for (const { path, text } of bins.outputFiles) writeGenerated(path, text.replaceAll('import("./lazy/', '__import("./lazy/'), BUNDLE_SCOPE);
for (const bin of ['create-infra-stack', 'infra-stack']) {
  await build({
    ...common,
    format: 'cjs',
    define: { 'import.meta.url': '__importMetaUrl' },
    stdin: { contents: `import { launch } from './src/bin/launch.ts'; launch('./${bin}.bundle.cjs');`, resolveDir: root, loader: 'ts' },
    outfile: `dist/${bin}.cjs`,
    // Node 22.1+ keeps compiled code between runs (the lazy files load faster); older Node lacks the call.
    banner: {
      js: `#!/usr/bin/env node\nconst __importMetaUrl = require('node:url').pathToFileURL(__filename).href; require('node:module').enableCompileCache?.();`,
    },
  });
}

// Bundling copies the libraries' code: their licenses go with it.
const bundled = new Set(
  [lazy, yaml, bins].flatMap((r) => Object.keys(r.metafile.inputs)).flatMap((input) => input.match(/^node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1] ?? []),
);
const notices = [...bundled].sort().map((pkg) => {
  const dir = `${root}node_modules/${pkg}`;
  const { version, license } = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'));
  const file = readdirSync(dir).find((name) => /^licen[cs]e/i.test(name));
  return `## ${pkg} ${version} (${license})\n\n${file ? readFileSync(`${dir}/${file}`, 'utf8').trim() : `License: ${license}`}\n`;
});
writeFileSync(`${root}dist/THIRD-PARTY-LICENSES.md`, `# Licenses of the libraries bundled into dist/\n\n${notices.join('\n')}`);

const Handlebars = createRequire(import.meta.url)('handlebars');
const set = loadTemplates([BUILTIN_TEMPLATES]);
const entries = [
  ...[...set.templates].filter(([, t]) => t.handlebars).map(([key, t]) => [key, t.text]),
  ...[...set.partials].map(([name, text]) => [`partials/${name}`, text]),
];
const body = entries
  .map(([key, text]) => `  ${JSON.stringify(key)}: { hash: ${JSON.stringify(textHash(text))}, spec: ${compact(Handlebars.precompile(text, COMPILE_OPTIONS))} },`)
  .join('\n');
// Every built-in file as well, so a bundled run reads one file instead of walking templates/: with
// its text, unless it is precompiled (a run renders the spec, whose hash is its text's). Those
// texts, a third of the file, go to dist/templates.text.cjs, which a run does not read.
const files = [
  ...[...set.templates.values()].map(({ id, text, handlebars }) => (handlebars ? { id } : { id, text })),
  ...[...set.partials].map(([name, text]) => ({ id: `partials/${name}.hbs`, text })),
];
const texts = Object.fromEntries([...set.templates.values()].filter((t) => t.handlebars).map(({ id, text }) => [id, text]));
const precompiled = await transform(`exports.templates = {\n${body}\n};\n`, { minify: true, format: 'cjs', target: common.target });
writeGenerated(PRECOMPILED_PATH, `${precompiled.code}exports.files=${JSON.stringify(files)};\n`, TEMPLATES_SCOPE);
writeGenerated(TEXTS_PATH, `exports.texts=${JSON.stringify(texts)};\n`);

/**
 * What Handlebars' compiled code carries that a built-in template does not need:
 * - each helper call's source location, for error messages: an object of three per call, made
 *   at every render. A built-in template failing is a bug, reported with the template's name
 *   (render.ts); Handlebars reads `loc` only to name a line in an error;
 * - in each function, a fallback for runtimes older than 4.6 that lack `lookupProperty` (the
 *   bundled runtime has it).
 * A third of the file. Anything left of either fails the build.
 */
function compact(spec) {
  const location = String.raw`\{"start":\{"line":\d+,"column":\d+\},"end":\{"line":\d+,"column":\d+\}\}`;
  const fallback = /lookupProperty = container\.lookupProperty \|\| function\(parent, propertyName\) \{\s*if \(Object\.prototype\.hasOwnProperty\.call\(parent, propertyName\)\) \{\s*return parent\[propertyName\];\s*\}\s*return undefined\s*\}/g;
  const out = spec
    .replace(new RegExp(`,"loc":${location}`, 'g'), '')
    .replace(new RegExp(`, ${location} \\)`, 'g'), ')')
    .replace(fallback, 'lookupProperty = container.lookupProperty');
  for (const left of ['{"start":{"line":', 'hasOwnProperty.call(parent, propertyName)']) {
    if (out.includes(left)) throw new Error(`precompiled template: ${left} left in ${out.slice(out.indexOf(left) - 80, out.indexOf(left) + 40)}`);
  }
  return out;
}

/**
 * The first line names the content: a run's code cache of the file is for that content only
 * (src/code-cache.ts). With `scope`, a file run by runWithCodeCache: the code as a function of it.
 */
function writeGenerated(path, code, scope) {
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const firstLine = `// Generated by scripts/build.js. Do not edit. Build ${hash}`;
  writeFileSync(path, scope ? asFunctionOf(scope, firstLine, code) : `${firstLine}\n${code}`);
}
