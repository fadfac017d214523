// Readers that see a generated repository as one system: what the gateway routes to, what CI
// pushes and every target pulls, what each service reads and gets, which probes call what. Each
// reads the files as the tools would (compose with merge keys, kustomize's build, PM2's own
// evaluation of ecosystem.config.cjs), never the model that wrote them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { interpolate, mergeCompose, parseDotenv, parseYamlMerged } from './validators.js';

export type Env = Record<string, string>;

export interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Env;
  networks?: string[] | Record<string, unknown>;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, unknown>;
  profiles?: string[];
}
export type Compose = { services: Record<string, ComposeService> };

const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');

/** compose.yaml with the given overrides, merged as `docker compose -f ... -f ...` does (services, environment maps). */
export function composeOf(dir: string, overrides: string[]): Compose {
  return mergeCompose(...['compose.yaml', ...overrides].map((f) => parseYamlMerged(read(dir, f)))) as Compose;
}

export const networksOf = (s: ComposeService): string[] => (Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {}));

/** A compose service's environment with .env interpolated, as its container sees it. */
export function composeEnv(dir: string, s: ComposeService): Env {
  const dotenv = parseDotenv(read(dir, '.env'));
  return Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), dotenv)]));
}

/** Upstreams a gateway config routes to: host and port (nginx `server host:port;`, kong `url: http://host:port`). */
export function gatewayUpstreams(dir: string, gateway: 'nginx' | 'kong', domain: string): { host: string; port: number }[] {
  if (gateway === 'nginx') {
    const conf = read(dir, `nginx/conf.d/${domain}.conf`).replace(/#.*$/gm, '');
    return [...conf.matchAll(/upstream\s+\S+\s*\{[^}]*?server\s+([\w.-]+):(\d+)/g)].map((m) => ({ host: m[1], port: Number(m[2]) }));
  }
  const kong = parse(read(dir, 'kong/kong.yml')) as { services: { url: string }[] };
  return kong.services.map((s) => {
    const u = new URL(s.url);
    return { host: u.hostname, port: Number(u.port) };
  });
}

/** The image names the Docker workflow pushes, one per matrix service, and the tag kinds it gives them. */
export function pushedImages(dir: string): { names: string[]; tags: string[] } {
  const wf = parse(read(dir, '.github/workflows/docker.yml'));
  const job = wf.jobs.image;
  const meta = job.steps.find((s: { id?: string }) => s.id === 'meta');
  const services: string[] = job.strategy.matrix.service;
  return {
    names: services.map((s) => String(meta.with.images).replace('${{ matrix.service }}', s)),
    tags: String(meta.with.tags).trim().split('\n').map((t) => t.trim()),
  };
}

/** A tag the Docker workflow produces, from its `tags:` rules (metadata-action: sha-<7>, semver, latest on main). */
export function ciProducesTag(rules: string[], tag: string): boolean {
  return rules.some((rule) => {
    if (rule === 'type=sha') return /^sha-[0-9a-f]{7}$/.test(tag);
    if (rule === 'type=semver,pattern={{version}}') return /^\d+\.\d+\.\d+$/.test(tag);
    if (rule === 'type=semver,pattern={{major}}.{{minor}}') return /^\d+\.\d+$/.test(tag);
    const raw = /^type=raw,value=([^,]+)/.exec(rule);
    return raw?.[1] === tag;
  });
}

export interface K8sContainerEnv {
  /** Variable -> value as the pod would see it (ConfigMaps resolved; secrets as `<secret:KEY>`). */
  env: Env;
  /** Keys of the Secret the container reads. */
  secretKeys: string[];
  /** Whole Secrets pulled in with envFrom (every key): never wanted. */
  secretRefs: string[];
}

/** The environment of a Deployment's first container: envFrom ConfigMaps, then env (with `$(VAR)` expanded). */
export function k8sContainerEnv(docs: Record<string, any>[], deployment: Record<string, any>): K8sContainerEnv {
  const container = deployment.spec.template.spec.containers[0];
  const env: Env = {};
  const secretKeys: string[] = [];
  const secretRefs: string[] = [];
  for (const from of container.envFrom ?? []) {
    if (from.secretRef) secretRefs.push(from.secretRef.name);
    const cm = from.configMapRef && docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === from.configMapRef.name);
    if (from.configMapRef && !cm) throw new Error(`${deployment.metadata.name}: envFrom ConfigMap ${from.configMapRef.name} is not in the build`);
    Object.assign(env, cm?.data ?? {});
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom?.secretKeyRef) {
      secretKeys.push(e.valueFrom.secretKeyRef.key);
      env[e.name] = `<secret:${e.valueFrom.secretKeyRef.key}>`;
    } else env[e.name] = String(e.value ?? '').replace(/\$\(([A-Z0-9_]+)\)/g, (m, name: string) => env[name] ?? m);
  }
  return { env, secretKeys, secretRefs };
}

/** PM2's view of ecosystem.config.cjs, evaluated by node in the repository (it reads .env itself). */
export function pm2Apps(dir: string): { name: string; env: Env }[] {
  const out = execFileSync(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(require("./ecosystem.config.cjs").apps))'], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
  });
  return JSON.parse(out);
}

/** The paths deploy.yml copies to a compose server (its rsync line). */
export function deployedPaths(dir: string): string[] {
  const text = read(dir, '.github/workflows/deploy.yml');
  const line = /^\s*rsync (.+)$/m.exec(text)?.[1];
  if (!line) throw new Error('deploy.yml has no rsync line');
  return line.split(/\s+/).filter((w) => !w.startsWith('-') && !w.startsWith('"'));
}

/**
 * What the sample reads from its environment, by dependency: the variable that switches a check on
 * (its CHECKS table) plus every `env.X` inside that check's function; and what it always reads.
 */
export function sampleReads(source: string): { always: string[]; byVariable: Map<string, string[]> } {
  const table = /for \(const \[name, variable, fn\] of \[([\s\S]*?)\]\) \{/.exec(source)?.[1];
  if (!table) throw new Error("the sample's CHECKS table was not found");
  const byVariable = new Map<string, string[]>();
  for (const [, variable, fn] of table.matchAll(/\['\w+', '([A-Z0-9_]+)', (\w+)\]/g)) {
    const body = new RegExp(`function ${fn}\\([^)]*\\) \\{([\\s\\S]*?)\\n\\}`).exec(source)?.[1] ?? '';
    byVariable.set(variable, [variable, ...new Set([...body.matchAll(/env\.([A-Z0-9_]+)/g)].map((m) => m[1]))]);
  }
  // Read at start by every service: PORT and SERVICE_* (HOST and HEALTH_TIMEOUT_MS have defaults).
  const always = ['PORT', 'SERVICE_NAME', 'SERVICE_KIND'].filter((v) => source.includes(`env.${v}`));
  return { always, byVariable };
}

/** Paths the sample answers (`last === 'x'` and the `known` list), with a leading slash. */
export function sampleEndpoints(source: string): string[] {
  const known = /const known = \[([^\]]*)\]\.includes\(last\)/.exec(source)?.[1] ?? '';
  return [...known.matchAll(/'([a-z]+)'/g)].map((m) => `/${m[1]}`);
}

/** The URL path an exec-form node fetch probe (Dockerfile HEALTHCHECK, compose healthcheck) asks for. */
export function probePath(command: string): { port: number; path: string } | null {
  const m = /fetch\('http:\/\/127\.0\.0\.1:(\d+)(\/[^']*)'\)/.exec(command);
  return m ? { port: Number(m[1]), path: m[2] } : null;
}

/**
 * A `docker` for running the generated CI's infrastructure job on this machine (no Docker engine):
 * `docker compose ...` runs docker-compose 1.29 with the same files; `docker run ... nginx:* nginx -t`
 * runs this machine's nginx on exactly the mounted files (mounts under /etc/nginx become its
 * prefix) with only the job's --add-host names resolvable; `docker run ... kong:* kong config parse`
 * runs decK on the mounted file (Kong itself does not run here). Anything else fails (exit 99).
 * Every call is appended to $DOCKER_LOG; scratch folders go under $DOCKER_TMP.
 */
export const DOCKER_STAND_IN = `#!/usr/bin/env node
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
fs.appendFileSync(process.env.DOCKER_LOG, args.join(' ') + '\\n');
const done = (r) => process.exit(r.status === null ? 1 : r.status);
if (args[0] === 'compose') done(spawnSync('docker-compose', args.slice(1).map((a) => (a === '--quiet' ? '-q' : a)), { stdio: 'inherit' }));
if (args[0] !== 'run') process.exit(99);
const mounts = [];
const hosts = [];
let i = 1;
for (; i < args.length; i++) {
  if (args[i] === '--rm') continue;
  if (args[i] === '-v') mounts.push(args[++i].split(':'));
  else if (args[i] === '--add-host') hosts.push(args[++i].split(':'));
  else if (args[i] === '-e') i++;
  else break;
}
const [image, ...command] = args.slice(i);
const scratch = fs.mkdtempSync(path.join(process.env.DOCKER_TMP, 'run-'));
if (/^nginx:/.test(image) && command.join(' ') === 'nginx -t') {
  for (const [host, target] of mounts) {
    if (!target.startsWith('/etc/nginx/')) { console.error('a mount outside /etc/nginx: ' + target); process.exit(1); }
    fs.symlinkSync(host, path.join(scratch, target.slice('/etc/nginx/'.length)));
  }
  if (!fs.existsSync(path.join(scratch, 'mime.types'))) fs.copyFileSync('/etc/nginx/mime.types', path.join(scratch, 'mime.types'));
  const hostsFile = path.join(scratch, '.hosts');
  fs.writeFileSync(hostsFile, ['127.0.0.1 localhost', ...hosts.map(([name, ip]) => ip + ' ' + name)].join('\\n') + '\\n');
  done(spawnSync('nginx', ['-t', '-q', '-e', 'stderr', '-c', path.join(scratch, 'nginx.conf'), '-p', scratch + '/'], {
    stdio: 'inherit',
    env: { ...process.env, LD_PRELOAD: process.env.NSS_WRAPPER_LIB, NSS_WRAPPER_HOSTS: hostsFile },
  }));
}
if (/^kong:/.test(image) && command.slice(0, 3).join(' ') === 'kong config parse') {
  const [host, target] = mounts[0];
  const file = path.join(host, path.relative(target, command[3]));
  // decK 1.4 rejects _transform, a valid Kong 3 key.
  fs.writeFileSync(path.join(scratch, 'kong.yml'), fs.readFileSync(file, 'utf8').replace(/^_transform:.*\\n/m, ''));
  done(spawnSync('deck', ['validate', '-s', path.join(scratch, 'kong.yml')], { stdio: 'inherit' }));
}
console.error('docker stand-in: not handled: ' + args.join(' '));
process.exit(99);
`;
