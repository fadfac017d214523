/** Bad input from a person, a preset or infra-stack.yaml: exit code 2, nothing written. */
export class InputError extends Error {
  readonly exitCode = 2;
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly allowed: string,
  ) {
    super(`Invalid ${field}: ${show(value)}. Allowed: ${allowed}.`);
    this.name = 'InputError';
  }
}

/** A command used the wrong way (unknown flag, missing argument): exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A team's own template (a --templates folder) that does not render: exit code 2, naming the
 * template file and, where the template engine says, the line.
 */
export class TemplateError extends Error {
  readonly exitCode = 2;
  constructor(
    readonly file: string,
    readonly line: number | null,
    problem: string,
  ) {
    super(`team template ${file}${line === null ? '' : ` line ${line}`}: ${problem}`);
    this.name = 'TemplateError';
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
export class RunError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'RunError';
  }
}

/** Ctrl-C (130) or SIGTERM (143) outside a question; the message says what the directory holds. */
export class InterruptedError extends Error {
  constructor(
    message: string,
    readonly exitCode: 130 | 143 = 130,
  ) {
    super(message);
    this.name = 'InterruptedError';
  }
}
