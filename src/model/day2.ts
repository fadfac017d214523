import { VERSION } from '../version.js';
import { ACTIONS, TOOLS } from './catalog.js';
import { ciFacts, type CiFacts } from './ci.js';
import type { DataService, DataServiceName } from './data-services.js';
import { BACKUP_METRIC } from './monitoring.js';
import type { ServiceKind, StackConfig } from './types.js';

/** How PM2 runs one service (ecosystem.config.cjs on a host, pm2-runtime in its image). */
export interface Pm2App {
  /** api/web services are HTTP servers PM2 can load-balance; a worker runs one process. */
  execMode: 'cluster' | 'fork';
  /** Processes on a host: 2 keeps one serving while `pm2 reload` restarts the other. */
  instances: number;
  /** Processes in a container: one, scaled with replicas (the container's memory limit is shared). */
  containerInstances: number;
  /** Restart above this memory on a host (and in a container without a memory limit). */
  maxMemoryRestart: string;
  /** In a container: restart at this share (%) of the container's memory limit, before the OOM killer. */
  memoryLimitPercent: number;
  /** ms between SIGINT and SIGKILL: the sample drains requests for up to 2 s, then closes. */
  killTimeout: number;
  /** ms to wait for `ready` (wait_ready) or `listening` before PM2 counts the start as failed. */
  listenTimeout: number;
  /** The sample calls process.send('ready') once it listens; code without it would wait listenTimeout. */
  waitReady: boolean;
}

export interface DeployEnvironment {
  name: string;
  /** Shown on the deployment in GitHub; null where the address is not known. */
  url: string | null;
  /** Jobs of deploy.yml that must succeed first: production waits for staging. */
  needs: string[];
}

/** Facts for CI, hooks, PM2, the Makefile and the scripts: computed once here. */
export interface DayTwo {
  processManager: StackConfig['processManager'];
  pm2: boolean;
  pm2Version: string;
  hooks: StackConfig['hooks'];
  husky: boolean;
  preCommit: boolean;
  /** What each `uses:` says: `owner/repo@<sha> # <version>`. */
  actions: Record<keyof typeof ACTIONS, string>;
  tools: typeof TOOLS;
  /** lint-staged for husky: the newest that runs on the stack's Node major. */
  lintStaged: { version: string; node: string };
  /** The root package.json's dev dependencies: the generator pinned at this version, the hooks' tools. */
  devDependencies: { name: string; version: string }[];
  /** Node major CI sets up (the services' image). */
  ciNode: string;
  /** Service containers and per-service settings of the CI test job (src/model/ci.ts). */
  ci: CiFacts;
  /** Where deploy.yml deploys: over SSH with compose, or kubectl apply -k. */
  deploy: { compose: boolean; k8s: boolean; environments: DeployEnvironment[] };
  /**
   * A compose server: COMPOSE_FILE (in its .env and every cron line) and the only files copied to it,
   * so no plain `docker compose` there ever reads the development override.
   */
  server: { composeFile: string; files: string[] };
  /** pg_dump backups and restores (postgres only). */
  backups: boolean;
  /**
   * Backup file prefix and retention (scripts/backup.sh run by hand or cron); the production backup
   * service's daily time (UTC) and longer retention; the metric it writes for Prometheus.
   */
  backup: { prefix: string; retentionDays: number; productionRetentionDays: number; at: string; metric: string };
}

export function pm2App(kind: ServiceKind, sample: boolean): Pm2App {
  const http = kind !== 'worker';
  return {
    execMode: http ? 'cluster' : 'fork',
    instances: http ? 2 : 1,
    containerInstances: 1,
    maxMemoryRestart: '400M',
    memoryLimitPercent: 80,
    killTimeout: 5000,
    listenTimeout: 10000,
    waitReady: sample,
  };
}

export function dayTwo(config: StackConfig, data: DataService[], services: { name: string; uses: DataServiceName[] }[]): DayTwo {
  const hasPostgres = data.some((d) => d.name === 'postgres');
  const modernNode = Number(config.node) >= 24;
  return {
    processManager: config.processManager,
    pm2: config.processManager === 'pm2',
    pm2Version: TOOLS.pm2,
    hooks: config.hooks,
    husky: config.hooks === 'husky',
    preCommit: config.hooks === 'pre-commit',
    actions: Object.fromEntries(Object.entries(ACTIONS).map(([key, a]) => [key, `${a.action}@${a.sha} # ${a.version}`])) as DayTwo['actions'],
    tools: TOOLS,
    // lint-staged 17 needs Node >= 22.22.1: a Node 20 or 22 team may run an older 22 locally.
    lintStaged: modernNode ? TOOLS.lintStaged : TOOLS.lintStagedForOlderNode,
    devDependencies: [
      { name: 'create-infra-stack', version: VERSION },
      ...(config.hooks === 'husky'
        ? [
            { name: 'husky', version: TOOLS.husky },
            { name: 'lint-staged', version: (modernNode ? TOOLS.lintStaged : TOOLS.lintStagedForOlderNode).version },
            { name: 'prettier', version: TOOLS.prettier },
          ]
        : []),
    ],
    ciNode: config.node,
    ci: ciFacts(config.name, data, services),
    deploy: {
      compose: config.target === 'compose',
      k8s: config.target === 'k8s',
      environments: [
        { name: 'staging', url: null, needs: ['release'] },
        { name: 'production', url: `https://${config.domain}`, needs: ['release', 'staging'] },
      ],
    },
    server: {
      composeFile: 'compose.yaml:compose.prod.yaml',
      files: ['compose.yaml', 'compose.prod.yaml', `${config.gateway}/`, 'scripts/', ...(config.monitoring === 'prometheus' ? ['monitoring/'] : [])],
    },
    backups: hasPostgres,
    backup: { prefix: config.name, retentionDays: 14, productionRetentionDays: 30, at: '03:15', metric: BACKUP_METRIC },
  };
}

/** Template families of the day-2 files, beside the always-on `ci` and `ops`. */
export function dayTwoFamilies(config: StackConfig, hasPostgres: boolean): string[] {
  return [
    'ci',
    config.hooks === 'husky' ? 'hooks-husky' : 'hooks-pre-commit',
    ...(config.processManager === 'pm2' ? ['pm2-runtime'] : []),
    ...(hasPostgres ? ['postgres-ops'] : []),
    ...(config.target === 'compose' ? ['deploy-compose'] : []),
  ];
}
