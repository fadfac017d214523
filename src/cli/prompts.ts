import { defaultAnswers, parseServicesFlag } from '../model/defaults.js';
import { InputError, UsageError } from '../model/errors.js';
import { serviceImages } from '../model/images.js';
import { validateConfig, type RawConfig } from '../model/validate.js';

/** The questions, in the order they are asked; each has a flag of the same name. */
export const QUESTIONS = ['services', 'gateway', 'queue', 'search', 'target', 'domain'] as const;
export type Question = (typeof QUESTIONS)[number];

/** The questions answered by picking one choice; `value` is what infra-stack.yaml stores. */
const CHOICES = {
  gateway: {
    message: 'Gateway',
    choices: [
      { name: 'Nginx', value: 'nginx', description: 'nginx reverse proxy: TLS, routes by path, rate limits, security headers' },
      { name: 'Kong', value: 'kong', description: 'Kong 3 DB-less: declarative routes and plugins (rate limiting, CORS)' },
    ],
  },
  queue: {
    message: 'Queue',
    choices: [
      { name: 'RabbitMQ', value: 'rabbitmq', description: 'RabbitMQ 4 with the management UI' },
      { name: 'SQS', value: 'sqs', description: 'AWS SQS; ElasticMQ stands in for it locally' },
    ],
  },
  search: {
    message: 'Search',
    choices: [
      { name: 'Meilisearch', value: 'meilisearch', description: 'small, fast, typo-tolerant search' },
      { name: 'OpenSearch', value: 'opensearch', description: 'OpenSearch 3: full-text search and analytics' },
    ],
  },
  target: {
    message: 'Deployment target',
    choices: [
      { name: 'Docker Compose', value: 'compose', description: 'one machine: compose.yaml and its overrides' },
      { name: 'Kubernetes', value: 'k8s', description: 'kustomize base and overlays (compose stays for development)' },
    ],
  },
};

/** Asked when no directory was given on the command line. */
export async function askDirectory(): Promise<string> {
  const { input } = await import('./prompt-library.js');
  return input({ message: 'Project directory', default: 'infra-stack-app', required: true });
}

/**
 * Asks each missing question with Inquirer's prompts (loaded only here). Free-text answers are
 * validated as they are typed, with the same rules as flags.
 */
export async function askMissing(answers: RawConfig, missing: Question[]): Promise<RawConfig> {
  const { input, select } = await import('./prompt-library.js');
  const result = { ...answers };
  const defaults = defaultAnswers(String(answers.name));
  const check = (patch: RawConfig): true | string => {
    try {
      validateConfig({ ...defaults, ...result, ...patch });
      return true;
    } catch (error) {
      if (error instanceof InputError) return error.message;
      throw error;
    }
  };
  // The cluster pulls what CI pushes: where is one answer, never a guess between the two. Asked
  // after the target question, or at the end when a flag or preset chose Kubernetes.
  const askRegistry = async () => {
    if (result.target !== 'k8s' || result.registry !== undefined) return;
    result.registry = await input({
      message: 'Image registry and owner (CI pushes there, the cluster pulls from there)',
      default: serviceImages({ name: String(answers.name) }).registry,
      validate: (value) => check({ registry: value }),
    });
  };
  for (const question of missing) {
    switch (question) {
      case 'services': {
        const text = await input({
          message: 'Services (name:kind:port, comma-separated)',
          default: 'api:api,web:web,worker:worker',
          validate: (value) => {
            try {
              return check({ services: parseServicesFlag(value) });
            } catch (error) {
              return (error as Error).message;
            }
          },
        });
        result.services = parseServicesFlag(text);
        break;
      }
      case 'gateway':
      case 'queue':
      case 'search':
        result[question] = await select(CHOICES[question]);
        break;
      case 'target':
        result.target = await select(CHOICES.target);
        await askRegistry();
        break;
      case 'domain':
        result.domain = await input({
          message: 'Public domain',
          default: String(defaults.domain),
          validate: (value) => check({ domain: value }),
        });
        break;
    }
  }
  await askRegistry();
  return result;
}

/** A directory whose name cannot be a project name: offer the valid one (name and directory). */
export async function confirmName(name: string, valid: string): Promise<boolean> {
  const { confirm } = await import('./prompt-library.js');
  return confirm({ message: `"${name}" cannot be a project name (lowercase letters, digits, -). Use "${valid}" as name and directory?`, default: true });
}

/** Without a terminal nothing is asked: the flags that would have answered, for the error. */
export function missingAnswers(missing: string[]): UsageError {
  const flags = missing.map((q) => (q === 'directory' ? '  [dir]' : `  --${q}`)).join('\n');
  return new UsageError(
    `No terminal to ask questions on, and these answers are missing:\n${flags}\nPass them as flags, or --yes to take the defaults. See create-infra-stack --help.`,
  );
}
