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

function show(value: unknown): string {
  if (value === undefined) return '(missing)';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/** Ctrl-C outside a question: exit code 130; the message says what the directory holds. */
export class InterruptedError extends Error {
  readonly exitCode = 130;
  constructor(message: string) {
    super(message);
    this.name = 'InterruptedError';
  }
}
