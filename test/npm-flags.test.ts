// `npm create infra-stack my-app --gateway kong` hands flags before `--` to npm; recoverNpmFlags
// puts ours back from npm's environment (the real `npm create` run is in package.test.ts).
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { recoverNpmFlags } from '../src/cli/npm-flags.js';
import { CREATE_BIN } from './helpers/stack.js';

const FLAGS = {
  booleans: ['yes', 'no-git'],
  choices: { gateway: ['nginx', 'kong'], queue: ['rabbitmq', 'sqs'], database: ['postgres', 'none'], cache: ['redis', 'none'] },
  values: ['services'],
};
const viaNpm = (vars: Record<string, string>) => ({ npm_command: 'init', ...vars });

describe('recoverNpmFlags', () => {
  it('gives each value flag the loose argument that only it allows, wherever it stands', () => {
    const env = viaNpm({ npm_config_gateway: 'true', npm_config_queue: 'true', npm_config_yes: 'true', npm_config_git: 'false' });
    expect(recoverNpmFlags(['sqs', 'my-app', 'kong'], env, FLAGS)).toEqual(['my-app', '--yes', '--no-git', '--gateway', 'kong', '--queue', 'sqs']);
  });

  it('leaves the arguments alone outside npm create/exec, and ignores npm settings that are not ours', () => {
    const env = { npm_command: 'run-script', npm_config_gateway: 'true', npm_config_yes: 'true' };
    expect(recoverNpmFlags(['my-app', 'kong'], env, FLAGS)).toEqual(['my-app', 'kong']);
    expect(recoverNpmFlags(['my-app'], viaNpm({ npm_config_registry: 'https://registry.npmjs.org/', npm_config_yes: '' }), FLAGS)).toEqual(['my-app']);
  });

  it('refuses what it cannot tell apart, printing the `--` form', () => {
    expect(() => recoverNpmFlags(['my-app', 'a:api'], viaNpm({ npm_config_services: 'true' }), FLAGS)).toThrow(
      /npm took --services for itself.*\n  npm create infra-stack -- <dir> --services <value>/,
    );
    // `none` could be the database or the cache.
    expect(() => recoverNpmFlags(['my-app', 'none', 'none'], viaNpm({ npm_config_database: 'true', npm_config_cache: 'true' }), FLAGS)).toThrow(
      /--database, --cache/,
    );
  });
});

describe('create under npm: every answer flag is put back', () => {
  it('--monitoring and --storage (added after the first list) too', () => {
    const r = spawnSync(process.execPath, [CREATE_BIN, 'npm-flags-app', 'prometheus', 's3', '--dry-run', '--json'], {
      cwd: tmpdir(),
      env: { ...process.env, npm_command: 'init', npm_config_yes: 'true', npm_config_monitoring: 'true', npm_config_storage: 'true' },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).config).toMatchObject({ monitoring: 'prometheus', storage: 's3' });
  });
});
