import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../model/errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags every command takes. */
export const COMMON_OPTIONS = {
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const satisfies Options;

/** node:util parseArgs, with its errors turned into usage errors (exit 2) that point at --help. */
export function parse<O extends Options>(argv: string[], options: O, command: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/, '.');
    throw new UsageError(`${message} Run \`${command} --help\` for the flags it takes.`);
  }
}
