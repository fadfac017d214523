/**
 * An error of ours: one line for people and the exit code it means (2 bad input, 1 the run could
 * not go on, 130 interrupted). The name is given, not read from the class: the bundle is minified.
 */
export abstract class OwnError extends Error {
  constructor(
    name: string,
    message: string,
    readonly exitCode: 1 | 2 | 130 | 143,
  ) {
    super(message);
    this.name = name;
  }
}

/** Bad input from a person, a preset or infra-stack.yaml: exit code 2, nothing written. */
export class InputError extends OwnError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly allowed: string,
  ) {
    super('InputError', `Invalid ${field}: ${show(value)}. Allowed: ${allowed}.`, 2);
  }
}

/** A command used the wrong way (unknown flag, missing argument): exit code 2. */
export class UsageError extends OwnError {
  constructor(message: string) {
    super('UsageError', message, 2);
  }
}

/**
 * A team's own template (a --templates folder) that does not render: exit code 2, naming the
 * template file and, where the template engine says, the line.
 */
export class TemplateError extends OwnError {
  constructor(
    readonly file: string,
    readonly line: number | null,
    problem: string,
  ) {
    super('TemplateError', `team template ${file}${line === null ? '' : ` line ${line}`}: ${problem}`, 2);
  }
}

function show(value: unknown): string {
  if (value === undefined) return '(missing)';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/**
 * The run could not go on for a reason outside the input (another run holds the lock, a file
 * changed under it, the disk is full): exit code 1, one line, and nothing half-written.
 */
export class RunError extends OwnError {
  constructor(message: string) {
    super('RunError', message, 1);
  }
}

/** Ctrl-C (130) or SIGTERM (143) outside a question; the message says what the directory holds. */
export class InterruptedError extends OwnError {
  constructor(message: string, exitCode: 130 | 143 = 130) {
    super('InterruptedError', message, exitCode);
  }
}
