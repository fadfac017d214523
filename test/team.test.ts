// Team templates: a preset of answers and a folder of templates that replace or add files, so
// every repository a team makes looks the same, now and on every later run.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CREATE_BIN, INFRA_STACK_BIN, readTree, runCli } from './helpers/stack.js';

describe('team presets and templates', () => {
  let work: string;
  const read = (path: string) => readFileSync(join(work, path), 'utf8');

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'infra-stack-team-'));
    mkdirSync(join(work, 'platform/templates/base'), { recursive: true });
    writeFileSync(
      join(work, 'platform/preset.yaml'),
      ['# Acme platform defaults', 'gateway: kong', 'queue: sqs', 'domain: api.acme.example', 'templates: templates',
        'services:', '  - name: api', '    kind: api', '    port: 4000', ''].join('\n'),
    );
    // Written carelessly on purpose: output of a team's template goes through prettier.
    writeFileSync(join(work, 'platform/templates/base/README.md.hbs'), '# {{name}}\n\nOwned by   the  Acme platform team.\n\n* services: {{#each services}}{{name}} {{/each}}\n');
    writeFileSync(join(work, 'platform/templates/base/CODEOWNERS'), '* @acme/platform\n');
  });

  const create = (...args: string[]) =>
    runCli(CREATE_BIN, [join(work, 'repo'), '--preset', join(work, 'platform/preset.yaml'), '--yes', '--no-git', '--no-install', ...args]);

  it('starts from the preset, lets flags win, and renders the team templates through prettier', () => {
    const r = create('--search', 'opensearch');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const answers = parse(read('repo/infra-stack.yaml'));
    expect(answers).toMatchObject({ gateway: 'kong', queue: 'sqs', search: 'opensearch', domain: 'api.acme.example', templates: '../platform/templates' });
    expect(answers.services).toEqual([{ name: 'api', kind: 'api', port: 4000, path: '/api' }]);
    expect(read('repo/README.md')).toBe('# repo\n\nOwned by the Acme platform team.\n\n- services: api\n');
    expect(read('repo/CODEOWNERS')).toBe('* @acme/platform\n');
    // Everything else is still the built-in output.
    expect(existsSync(join(work, 'repo/kong/kong.yml'))).toBe(true);
  });

  it('keeps using the team templates on later runs, once the person names a folder outside the repository', () => {
    expect(create().code).toBe(0);
    const before = readTree(join(work, 'repo'));
    // infra-stack.yaml alone (a file anyone can commit) may not point the tool outside the repository.
    const alone = runCli(INFRA_STACK_BIN, ['update', '--dir', join(work, 'repo')]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toBe(
      'error: infra-stack.yaml says templates: ../platform/templates, a folder outside the repository; infra-stack.yaml alone may only point inside it. If you trust that folder, pass it yourself: --templates ../platform/templates\n',
    );
    expect(readTree(join(work, 'repo'))).toEqual(before);
    const team = ['--templates', join(work, 'platform/templates'), '--dir', join(work, 'repo')];
    const update = runCli(INFRA_STACK_BIN, ['update', ...team]);
    expect(update.code).toBe(0);
    expect(update.stdout).toContain('Nothing to change');
    expect(readTree(join(work, 'repo'))).toEqual(before);

    const add = runCli(INFRA_STACK_BIN, ['add', 'service', 'billing', ...team]);
    expect(add.code).toBe(0);
    expect(read('repo/README.md')).toContain('- services: api billing');
  });

  it('parses back what a team template rendered: YAML that does not parse fails the run, naming the template, writing nothing', () => {
    writeFileSync(join(work, 'platform/templates/base/extra.yaml.hbs'), 'name: {{name}}\nlist: [unclosed\n');
    const r = create();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/team template base\/extra\.yaml\.hbs: rendered extra\.yaml, which does not parse/);
    expect(existsSync(join(work, 'repo'))).toBe(false);
  });

  it('a team template calling a helper that does not exist fails, naming it and the helpers there are, writing nothing', () => {
    writeFileSync(join(work, 'platform/templates/base/extra.yaml.hbs'), 'name: {{shout name}}\n');
    const r = create();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/team template base\/extra\.yaml\.hbs line 1: no helper named shout: a template may call quote, json, join, eq, yaml, env/);
    expect(existsSync(join(work, 'repo'))).toBe(false);
  });

  it('refuses a missing template folder and a bad preset, writing nothing', () => {
    const missing = create('--templates', join(work, 'nowhere'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does not exist');
    writeFileSync(join(work, 'platform/preset.yaml'), 'gateway: traefik\n');
    const bad = create();
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Invalid preset \S+preset\.yaml: gateway: "traefik"\. Allowed: nginx, kong\./);
    expect(existsSync(join(work, 'repo'))).toBe(false);
  });
});
