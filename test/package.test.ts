// What `npm create infra-stack` downloads: the packed package must hold every template (npm
// silently drops some names, such as .gitignore) and the compiled code, and nothing else.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/stack.js';

describe('the published package', () => {
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
  )[0] as { files: { path: string }[] };
  const files = new Set(packed.files.map((f) => f.path));

  it('contains every template file', () => {
    const templates = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'templates'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    expect(templates.length).toBeGreaterThan(20);
    expect(templates.filter((t) => !files.has(t))).toEqual([]);
  });

  it('contains the entry points, the compiled code and the precompiled templates', () => {
    for (const path of ['bin/create-infra-stack.js', 'bin/infra-stack.js', 'dist/src/cli/create.js', 'dist/templates.precompiled.cjs', 'package.json', 'README.md']) {
      expect(files.has(path), path).toBe(true);
    }
  });

  it('ships no tests, sources or shared material', () => {
    expect([...files].filter((f) => /^(test|src|scripts|\.ci)\//.test(f) || f.includes('shared/'))).toEqual([]);
  });
});
