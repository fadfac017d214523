import { describe, expect, it } from 'vitest';
import { mergeFile } from '../src/engine/merge.js';
import { configOf, renderTree } from './helpers/stack.js';

describe('scratch', () => {
  it('gateway', async () => {
    const before = await renderTree(configOf());
    const after = await renderTree(configOf({ services: [...configOf().services, { name: 'ledger', kind: 'api' }] }));
    const base = before.get('compose.yaml')!.content;
    const ours = base.replace(/(  gateway:[\s\S]*?api:\n        condition: )service_healthy/, '$1service_started # ours');
    expect(ours).not.toBe(base);
    const r = mergeFile('compose.yaml', base, ours, after.get('compose.yaml')!.content, 'gen 2');
    console.log(r.conflict, r.detail);
    console.log(r.content.slice(r.content.indexOf('  gateway:')));
  });
});
