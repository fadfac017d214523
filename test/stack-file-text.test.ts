// infra-stack.yaml is written by a small emitter (stringify is slow for large stacks): it must
// write what the yaml package writes, and read back as the same answers whatever the strings hold.
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { stackFileText } from '../src/model/stack-file.js';
import { configOf } from './helpers/stack.js';

const body = (text: string) => text.slice(text.indexOf('\n\n') + 2);

describe('stackFileText', () => {
  const configs = {
    defaults: configOf(),
    k8s: configOf({ target: 'k8s', registry: 'registry.example.com:5000/team', nginxVersion: '1.22.1', skip: ['compose.prod.yaml', '.github/workflows/'] }),
    narrow: configOf({ database: 'none', services: [{ name: 'api', kind: 'api', cache: true, uses: ['cache'] }, { name: 'jobs', kind: 'worker', uses: [] }] }),
  };

  it.each(Object.entries(configs))('writes what yaml.stringify writes: %s', (_name, config) => {
    const text = stackFileText(config);
    const { services: _s, ...settings } = parse(body(text)) as Record<string, unknown>;
    expect(body(text)).toBe(stringify({ ...settings, services: parse(body(text)).services }, { lineWidth: 0 }));
  });

  it('reads back as the same answers, whatever the strings hold', () => {
    const tricky = ['24', 'true', 'No', 'null', '~', '-x', 'a: b', 'a #b', "it's", '"q"', 'line\nbreak', 'ünï', '', ' lead', '1e3', '.5', '@x', '*x', '&x', '!x', '[x]', '{x}', '%x', '`x`', 'x:', '1.22.1', '.github/', '.inf', '.NaN', '0x1f', '0o7', '12', '1_000', 'x y'];
    for (const value of tricky) {
      const config = { ...configOf(), domain: value, templates: value, skip: [value] } as never;
      const back = parse(body(stackFileText(config)));
      expect([back.domain, back.templates, back.skip], JSON.stringify(value)).toEqual([value, value, [value]]);
    }
  });
});
