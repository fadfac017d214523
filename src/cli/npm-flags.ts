import { UsageError } from '../model/errors.js';

/**
 * `npm create infra-stack my-app --gateway kong --yes` hands the flags before `--` to npm, not to
 * us: npm passes each to the child as an `npm_config_<name>` variable (`true`, or `false` for
 * `--no-<name>`), and a flag's value becomes a loose argument (`my-app kong`). This puts our flags
 * back: booleans from their variable; a value flag from the loose argument that is one of its
 * allowed values (`kong` can only be a gateway). What cannot be told apart (two free-text values,
 * or a value that is also the directory) is refused with the `--` form to run instead.
 *
 * Only under `npm create`/`npm init`/`npm exec`/`npx` (npm_command), and only our flag names.
 */
export function recoverNpmFlags(
  argv: string[],
  env: NodeJS.ProcessEnv,
  flags: { booleans: readonly string[]; choices: Readonly<Record<string, readonly string[]>>; values: readonly string[] },
): string[] {
  if (env.npm_command !== 'init' && env.npm_command !== 'exec') return argv;
  const variable = (flag: string) => env[`npm_config_${flag.replaceAll('-', '_')}`];
  const recovered: string[] = [];
  for (const flag of flags.booleans) {
    const negated = flag.startsWith('no-') ? flag.slice(3) : undefined;
    if (negated !== undefined ? variable(negated) === 'false' : variable(flag) === 'true') recovered.push(`--${flag}`);
  }
  const swallowed = [...Object.keys(flags.choices), ...flags.values].filter((flag) => variable(flag) === 'true');
  const loose = [...argv];
  const unclear: string[] = [];
  for (const flag of swallowed) {
    const matches = loose.filter((arg) => flags.choices[flag]?.includes(arg));
    if (matches.length !== 1) {
      unclear.push(flag);
      continue;
    }
    loose.splice(loose.indexOf(matches[0]), 1);
    recovered.push(`--${flag}`, matches[0]);
  }
  if (unclear.length > 0) {
    throw new UsageError(
      `npm took ${unclear.map((f) => `--${f}`).join(', ')} for itself (flags before \`--\` go to npm). Put the flags after \`--\`:\n` +
        `  npm create infra-stack -- <dir> ${unclear.map((f) => `--${f} <value>`).join(' ')} ...`,
    );
  }
  return [...loose, ...recovered];
}
