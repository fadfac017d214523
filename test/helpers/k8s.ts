// Checks for the Kubernetes target (k8s/): builds with `kubectl kustomize` (offline), validates
// every resource against its schema (kubernetes-models, @kubernetes-models/gateway-api and
// cert-manager), catches unknown fields with the TypeScript compiler (kubernetes-types and the
// models' interfaces: an object literal typed `const r: Deployment = {...}` may not carry a field
// the type lacks), and checks the hardening rules and network flows the generator promises.
// Every checker returns its findings (an empty list means clean), so a test prints them all.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ngfPolicyProblems, type ClientSettingsPolicy, type RateLimitPolicy } from './ngf.js';
import { KONG_BUNDLED_PLUGINS, KONG_PLUGIN_FIELDS, KONG_PLUGIN_RECORD_FIELDS } from './validators.js';

const ROOT = join(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);

/** A Kubernetes resource as YAML parses it. */
export interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: any;
}

export const id = (r: Resource): string => `${r.kind}/${r.metadata.name}`;

/** Every document of a multi-document YAML text (empty ones skipped). */
export function parseResources(text: string): Resource[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw d.errors[0];
      return d.toJS() as Resource | null;
    })
    .filter((r): r is Resource => r !== null);
}

// ---------------------------------------------------------------------------------------------
// kubectl kustomize
// ---------------------------------------------------------------------------------------------

/** `kubectl kustomize dir`, offline; rejects with kubectl's message. */
export function kustomize(dir: string): Promise<Resource[]> {
  return new Promise((resolve, reject) => {
    execFile('kubectl', ['kustomize', dir], { maxBuffer: 64 << 20, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`kubectl kustomize ${dir} failed: ${stderr || error.message}`));
      else resolve(parseResources(stdout));
    });
  });
}

/** Fields kustomize deprecated: a generated kustomization uses their replacements. */
export const DEPRECATED_KUSTOMIZE_FIELDS = ['commonLabels', 'patchesStrategicMerge', 'patchesJson6902', 'bases', 'vars', 'imageTags'];

export function kustomizationProblems(path: string, text: string): string[] {
  const [doc] = parseResources(text);
  if (!doc) return [`${path}: empty`];
  const problems = DEPRECATED_KUSTOMIZE_FIELDS.filter((f) => f in doc).map((f) => `${path}: deprecated field ${f}`);
  const expected = path.includes('/components/') ? 'kustomize.config.k8s.io/v1alpha1 Component' : 'kustomize.config.k8s.io/v1beta1 Kustomization';
  if (`${doc.apiVersion} ${doc.kind}` !== expected) problems.push(`${path}: ${doc.apiVersion} ${doc.kind}, expected ${expected}`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Schemas: kubernetes-models (types and required fields; not unknown fields)
// ---------------------------------------------------------------------------------------------

type ModelClass = new (data: object) => { validate(): void };

function modelOf(r: Resource): ModelClass | null {
  const [group] = r.apiVersion.includes('/') ? r.apiVersion.split('/') : ['core'];
  const path =
    group === 'gateway.networking.k8s.io'
      ? `@kubernetes-models/gateway-api/${r.apiVersion}/${r.kind}`
      : group === 'cert-manager.io' || group === 'acme.cert-manager.io'
        ? `@kubernetes-models/cert-manager/${r.apiVersion}/${r.kind}`
        : `kubernetes-models/${r.apiVersion}/${r.kind}`;
  try {
    return (require(path) as Record<string, ModelClass>)[r.kind] ?? null;
  } catch {
    return null;
  }
}

/** Validates each resource against its model's JSON schema; KongPlugins against Kong's plugin schemas. */
export function schemaProblems(resources: Resource[]): string[] {
  return resources.flatMap((r) => {
    if (r.kind === 'KongPlugin' && r.apiVersion === 'configuration.konghq.com/v1') return kongPluginProblems(r);
    if (r.apiVersion === 'gateway.nginx.org/v1alpha1' && (r.kind === 'ClientSettingsPolicy' || r.kind === 'RateLimitPolicy'))
      return ngfPolicyProblems(r as unknown as ClientSettingsPolicy | RateLimitPolicy);
    const Model = modelOf(r);
    if (!Model) return [`${id(r)}: no schema for ${r.apiVersion} ${r.kind}`];
    try {
      new Model(unwrapSecretData(r)).validate();
      return [];
    } catch (error) {
      return [`${id(r)}: ${(error as Error).message}`];
    }
  });
}

/**
 * kustomize wraps a Secret's base64 values at 76 characters (a 64-character key, for one); the API
 * server's decoder skips those line breaks, the schema's "byte" format does not: unwrap them first.
 */
function unwrapSecretData(r: Resource): Resource {
  if (r.kind !== 'Secret' || !r.data) return r;
  return { ...r, data: Object.fromEntries(Object.entries(r.data as Record<string, string>).map(([k, v]) => [k, v.replace(/\n/g, '')])) };
}

/** A KongPlugin: a bundled plugin, and only `config` fields its Kong schema knows. */
export function kongPluginProblems(r: Resource): string[] {
  const problems: string[] = [];
  const plugin: unknown = r.plugin;
  if (typeof plugin !== 'string' || !KONG_BUNDLED_PLUGINS.has(plugin)) return [`${id(r)}: plugin ${JSON.stringify(plugin)} is not bundled with Kong`];
  const fields = KONG_PLUGIN_FIELDS[plugin];
  if (!fields) return [`${id(r)}: no field list for plugin ${plugin} (add it to KONG_PLUGIN_FIELDS)`];
  const config = (r.config ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(config)) {
    if (!fields.includes(key)) problems.push(`${id(r)}: config.${key} is not a field of ${plugin}`);
    const record = KONG_PLUGIN_RECORD_FIELDS[plugin]?.[key];
    if (record && value && typeof value === 'object') {
      for (const inner of Object.keys(value)) if (!record.includes(inner)) problems.push(`${id(r)}: config.${key}.${inner} is not a field of ${plugin}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Unknown fields: the TypeScript compiler's excess-property check
// ---------------------------------------------------------------------------------------------

const TYPECHECK_ROOT = join(ROOT, 'node_modules', '.cache', 'infra-stack-k8s-typecheck');
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');

/** The TypeScript type a resource must satisfy: module and exported name. */
function typeOf(r: Resource): { module: string; name: string } | null {
  const [group, version] = r.apiVersion.includes('/') ? r.apiVersion.split('/') : ['core', r.apiVersion];
  if (group === 'gateway.networking.k8s.io') return { module: `@kubernetes-models/gateway-api/${r.apiVersion}/${r.kind}`, name: `I${r.kind}` };
  if (group === 'cert-manager.io') return { module: `@kubernetes-models/cert-manager/${r.apiVersion}/${r.kind}`, name: `I${r.kind}` };
  if (group === 'configuration.konghq.com' && r.kind === 'KongPlugin') return { module: join(import.meta.dirname, 'kong-plugin.js'), name: 'KongPlugin' };
  if (group === 'gateway.nginx.org' && (r.kind === 'ClientSettingsPolicy' || r.kind === 'RateLimitPolicy')) return { module: join(import.meta.dirname, 'ngf.js'), name: r.kind };
  if (!group.includes('.') || group.endsWith('.k8s.io')) return { module: `kubernetes-types/${group.split('.')[0]}/${version}`, name: r.kind };
  return null;
}

/**
 * Writes each resource as `const r<i>: <Type> = <json>;` into one .ts file and runs the
 * TypeScript compiler (tsc, strict) on it: a field the type does not have, a wrong type or a
 * missing required field is an error, reported with the resource's label and the field's line.
 * TypeScript 7 (the native compiler) has no JS API: it runs as a process, in ~0.3 s.
 */
export async function unknownFieldProblems(sets: { label: string; resources: Resource[] }[]): Promise<string[]> {
  mkdirSync(TYPECHECK_ROOT, { recursive: true });
  const dir = mkdtempSync(join(TYPECHECK_ROOT, 'run-'));
  const imports = new Map<string, string>();
  const lines: string[] = [];
  const owners: { line: number; label: string }[] = [];
  const problems: string[] = [];
  let n = 0;
  for (const { label, resources } of sets) {
    for (const r of resources) {
      const type = typeOf(r);
      if (!type) {
        problems.push(`${label} ${id(r)}: no TypeScript type for ${r.apiVersion}`);
        continue;
      }
      const module = type.module.startsWith('/') ? `./${relative(dir, type.module).split('\\').join('/')}` : type.module;
      const key = `${module}#${type.name}`;
      if (!imports.has(key)) imports.set(key, `T${imports.size}`);
      owners.push({ line: lines.length + 1, label: `${label} ${id(r)}` });
      lines.push(...`export const r${n++}: ${imports.get(key)} = ${JSON.stringify(r, null, 2)};`.split('\n'));
    }
  }
  const header = [...imports].map(([key, alias]) => {
    const [module, name] = key.split('#');
    return `import type { ${name} as ${alias} } from ${JSON.stringify(module)};`;
  });
  writeFileSync(join(dir, 'resources.ts'), [...header, ...lines].join('\n') + '\n');
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'preserve', moduleResolution: 'bundler', types: [], skipLibCheck: true },
      files: ['resources.ts'],
    }),
  );
  const output = await new Promise<string>((resolve, reject) => {
    execFile(TSC, ['-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], { timeout: 120_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error && !stdout) reject(new Error(`tsc failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
  for (const line of output.split('\n').filter(Boolean)) {
    const m = /resources\.ts\((\d+),\d+\): (.*)$/.exec(line);
    if (!m) {
      problems.push(line);
      continue;
    }
    const at = Number(m[1]) - header.length;
    const owner = [...owners].reverse().find((o) => o.line <= at);
    const text = [...header, ...lines][Number(m[1]) - 1]?.trim();
    problems.push(`${owner?.label ?? '?'}: ${m[2].replace(/'"([^"']+)"'/g, "'$1'")} (at ${text})`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Hardening rules
// ---------------------------------------------------------------------------------------------

type Obj = Record<string, any>;

/** A resource that runs pods, with its pod template. */
export interface Workload {
  resource: Resource;
  pod: Obj;
  labels: Record<string, string>;
  /** Runs until stopped (Deployment, StatefulSet): probes apply. */
  longRunning: boolean;
}

export function workloadsOf(resources: Resource[]): Workload[] {
  return resources.flatMap((r): Workload[] => {
    const template =
      r.kind === 'CronJob' ? r.spec?.jobTemplate?.spec?.template : ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet'].includes(r.kind) ? r.spec?.template : r.kind === 'Pod' ? r : null;
    if (!template) return [];
    return [{ resource: r, pod: template.spec ?? {}, labels: template.metadata?.labels ?? {}, longRunning: ['Deployment', 'StatefulSet', 'DaemonSet'].includes(r.kind) }];
  });
}

const containersOf = (pod: Obj): Obj[] => [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
/** A container's effective security setting: its own, else the pod's. */
const effective = (pod: Obj, c: Obj, key: string): unknown => c.securityContext?.[key] ?? pod.securityContext?.[key];

export const selectorMatches = (selector: Obj | undefined, labels: Record<string, string>): boolean => {
  if (!selector) return true;
  const exprs: Obj[] = selector.matchExpressions ?? [];
  return (
    Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
    exprs.every((e) => {
      const has = e.key in labels;
      if (e.operator === 'In') return has && e.values.includes(labels[e.key]);
      if (e.operator === 'NotIn') return !has || !e.values.includes(labels[e.key]);
      if (e.operator === 'Exists') return has;
      if (e.operator === 'DoesNotExist') return !has;
      return false;
    })
  );
};

export interface HardeningRule {
  id: string;
  what: string;
  /** Problems of one workload (each container's, prefixed with its name). */
  check: (w: Workload, all: Resource[]) => string[];
}

/** Per container: the message when `ok` is false. */
const perContainer = (w: Workload, ok: (c: Obj) => boolean, message: (c: Obj) => string): string[] =>
  containersOf(w.pod)
    .filter((c) => !ok(c))
    .map((c) => `container ${c.name}: ${message(c)}`);

const podSelectedBy = (w: Workload, r: Resource): boolean =>
  (!r.metadata.namespace || r.metadata.namespace === w.resource.metadata.namespace) && selectorMatches(r.spec?.podSelector, w.labels);

/** kube-score, kube-linter and Polaris's checks (REFERENCE.md section 3), as the generator meets them. */
export const HARDENING_RULES: HardeningRule[] = [
  {
    id: 'run-as-non-root',
    what: 'runAsNonRoot: true',
    check: (w) => perContainer(w, (c) => effective(w.pod, c, 'runAsNonRoot') === true, () => 'runAsNonRoot is not true'),
  },
  {
    id: 'uid-gid-above-10000',
    what: 'runAsUser and runAsGroup above 10000',
    check: (w) =>
      perContainer(
        w,
        (c) => Number(effective(w.pod, c, 'runAsUser')) > 10000 && Number(effective(w.pod, c, 'runAsGroup')) > 10000,
        (c) => `runAsUser ${effective(w.pod, c, 'runAsUser')}, runAsGroup ${effective(w.pod, c, 'runAsGroup')}`,
      ),
  },
  {
    id: 'read-only-root',
    what: 'readOnlyRootFilesystem: true, with a writable emptyDir at /tmp',
    check: (w) =>
      perContainer(
        w,
        (c) =>
          c.securityContext?.readOnlyRootFilesystem === true &&
          (c.volumeMounts ?? []).some((m: Obj) => m.mountPath === '/tmp' && (w.pod.volumes ?? []).some((v: Obj) => v.name === m.name && v.emptyDir)),
        (c) => (c.securityContext?.readOnlyRootFilesystem === true ? 'no emptyDir at /tmp' : 'readOnlyRootFilesystem is not true'),
      ),
  },
  {
    id: 'no-privilege-escalation',
    what: 'allowPrivilegeEscalation: false, not privileged, no host namespaces or hostPath',
    check: (w) => [
      ...perContainer(w, (c) => c.securityContext?.allowPrivilegeEscalation === false, () => 'allowPrivilegeEscalation is not false'),
      ...perContainer(w, (c) => c.securityContext?.privileged !== true, () => 'privileged'),
      ...['hostNetwork', 'hostPID', 'hostIPC'].filter((k) => w.pod[k]).map((k) => `${k} is set`),
      ...(w.pod.volumes ?? []).filter((v: Obj) => v.hostPath).map((v: Obj) => `hostPath volume ${v.name}`),
    ],
  },
  {
    id: 'drop-all-capabilities',
    what: 'capabilities.drop [ALL], nothing added',
    check: (w) =>
      perContainer(
        w,
        (c) => (c.securityContext?.capabilities?.drop ?? []).includes('ALL') && !(c.securityContext?.capabilities?.add ?? []).length,
        (c) => `capabilities ${JSON.stringify(c.securityContext?.capabilities ?? null)}`,
      ),
  },
  {
    id: 'seccomp-runtime-default',
    what: 'seccompProfile RuntimeDefault',
    check: (w) => perContainer(w, (c) => (effective(w.pod, c, 'seccompProfile') as Obj | undefined)?.type === 'RuntimeDefault', () => 'no RuntimeDefault seccomp profile'),
  },
  {
    id: 'resources',
    what: 'CPU and memory requests and a memory limit',
    check: (w) =>
      perContainer(
        w,
        (c) => Boolean(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory),
        (c) => `resources ${JSON.stringify(c.resources ?? null)}`,
      ),
  },
  {
    id: 'probes',
    what: 'readiness, liveness and startup probes (long-running workloads)',
    check: (w) =>
      w.longRunning
        ? perContainer(
            { ...w, pod: { containers: w.pod.containers } },
            (c) => Boolean(c.readinessProbe && c.livenessProbe && c.startupProbe),
            (c) => `missing ${['readinessProbe', 'livenessProbe', 'startupProbe'].filter((p) => !c[p]).join(', ')}`,
          )
        : [],
  },
  {
    id: 'no-service-account-token',
    what: 'automountServiceAccountToken: false',
    check: (w) => (w.pod.automountServiceAccountToken === false ? [] : ['automountServiceAccountToken is not false']),
  },
  {
    id: 'pinned-image',
    what: 'every image has a tag (or digest) and no :latest',
    check: (w) =>
      perContainer(
        w,
        (c) => {
          const image = String(c.image ?? '');
          const tag = /:([\w][\w.-]{0,127})$/.exec(image.split('/').pop() ?? '')?.[1];
          return image.includes('@sha256:') || (tag !== undefined && tag !== 'latest');
        },
        (c) => `image ${c.image} is not pinned`,
      ),
  },
  {
    id: 'image-pull-always',
    what: 'imagePullPolicy: Always',
    check: (w) => perContainer(w, (c) => c.imagePullPolicy === 'Always', (c) => `imagePullPolicy ${c.imagePullPolicy}`),
  },
  {
    id: 'replicas',
    what: 'Deployments run at least 2 pods: replicas >= 2, or an HPA with minReplicas >= 2 < maxReplicas (and no replicas)',
    check: (w, all) => {
      if (w.resource.kind !== 'Deployment') return [];
      const hpa = all.find((r) => r.kind === 'HorizontalPodAutoscaler' && r.spec?.scaleTargetRef?.kind === 'Deployment' && r.spec.scaleTargetRef.name === w.resource.metadata.name);
      if (hpa) {
        const { minReplicas = 1, maxReplicas } = hpa.spec;
        const problems: string[] = [];
        if (hpa.apiVersion !== 'autoscaling/v2') problems.push(`HPA ${hpa.apiVersion}`);
        if (!(minReplicas >= 2 && maxReplicas > minReplicas)) problems.push(`HPA minReplicas ${minReplicas}, maxReplicas ${maxReplicas}`);
        if (w.resource.spec.replicas !== undefined) problems.push('replicas set on a Deployment an HPA scales');
        return problems;
      }
      return (w.resource.spec.replicas ?? 1) >= 2 ? [] : [`replicas ${w.resource.spec.replicas ?? 1} and no HPA`];
    },
  },
  {
    id: 'pod-disruption-budget',
    what: 'a policy/v1 PodDisruptionBudget per Deployment, unhealthyPodEvictionPolicy AlwaysAllow, allowing evictions',
    check: (w, all) => {
      if (w.resource.kind !== 'Deployment') return [];
      const pdbs = all.filter((r) => r.kind === 'PodDisruptionBudget' && selectorMatches(r.spec?.selector ?? { matchLabels: { never: 'matches' } }, w.labels));
      if (pdbs.length !== 1) return [`${pdbs.length} PodDisruptionBudgets select its pods`];
      const [pdb] = pdbs;
      const problems: string[] = [];
      if (pdb.apiVersion !== 'policy/v1') problems.push(`PDB ${pdb.apiVersion}`);
      if (pdb.spec.unhealthyPodEvictionPolicy !== 'AlwaysAllow') problems.push(`PDB unhealthyPodEvictionPolicy ${pdb.spec.unhealthyPodEvictionPolicy}`);
      if (pdb.spec.maxUnavailable === 0 || pdb.spec.maxUnavailable === '0%' || (pdb.spec.maxUnavailable === undefined && pdb.spec.minAvailable === undefined)) {
        problems.push(`PDB allows no eviction (maxUnavailable ${pdb.spec.maxUnavailable})`);
      }
      return problems;
    },
  },
  {
    id: 'spread',
    what: 'Deployments: rolling updates and topology spread constraints',
    check: (w) =>
      w.resource.kind !== 'Deployment'
        ? []
        : [
            ...(w.resource.spec.strategy?.type === 'RollingUpdate' ? [] : ['strategy is not RollingUpdate']),
            ...((w.pod.topologySpreadConstraints ?? []).some((t: Obj) => selectorMatches(t.labelSelector, w.labels)) ? [] : ['no topologySpreadConstraints selecting its pods']),
          ],
  },
  {
    id: 'network-policy',
    what: 'NetworkPolicies select the pod for both ingress and egress',
    check: (w, all) => {
      const policies = all.filter((r) => r.kind === 'NetworkPolicy' && podSelectedBy(w, r));
      return (['Ingress', 'Egress'] as const).filter((t) => !policies.some((p) => (p.spec.policyTypes ?? ['Ingress']).includes(t))).map((t) => `no ${t} NetworkPolicy selects its pods`);
    },
  },
  {
    id: 'secrets-by-reference',
    what: 'secret-looking environment variables come from a Secret (secretKeyRef), never a literal',
    check: (w) =>
      containersOf(w.pod).flatMap((c) => (c.env ?? []).filter((e: Obj) => typeof e.value === 'string' && secretLooking(e.name, e.value)).map((e: Obj) => `container ${c.name}: env ${e.name} holds a literal secret`)),
  },
];

/** Documented departures from HARDENING_RULES: workload id -> rule id -> why. */
export type Exemptions = Record<string, Record<string, string>>;

/** Every rule on every workload; a finding covered by an exemption is not a problem. */
export function hardeningProblems(resources: Resource[], exemptions: Exemptions = {}, rules = HARDENING_RULES): string[] {
  return workloadsOf(resources).flatMap((w) =>
    rules.filter((rule) => !exemptions[id(w.resource)]?.[rule.id]).flatMap((rule) => rule.check(w, resources).map((p) => `${id(w.resource)} [${rule.id}]: ${p}`)),
  );
}

/**
 * A value that looks like a secret: a password/secret/token/key variable with a literal value, or
 * a URL with a password in it. `$(VAR)` references (Kubernetes builds them from a Secret) are fine.
 */
export function secretLooking(key: string, value: string): boolean {
  const literal = value.replace(/\$\([A-Za-z_][A-Za-z0-9_]*\)/g, '');
  if (/PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|MASTER_KEY|PRIVATE_KEY|CREDENTIAL/i.test(key) && literal.trim() !== '') return true;
  const url = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:([^/@\s]+)@/i.exec(value);
  return url !== null && !/^\$\([A-Za-z_][A-Za-z0-9_]*\)$/.test(url[1]);
}

/** ConfigMaps with a secret-looking value, and Secrets not made by a secretGenerator (name-hash). */
export function secretStorageProblems(resources: Resource[], generated: string[]): string[] {
  return resources.flatMap((r) => {
    if (r.kind === 'ConfigMap') {
      return Object.entries((r.data ?? {}) as Record<string, string>).filter(([k, v]) => secretLooking(k, String(v))).map(([k]) => `${id(r)}: ${k} looks like a secret`);
    }
    if (r.kind === 'Secret' && !generated.some((g) => new RegExp(`^${g}-[a-z0-9]{10}$`).test(r.metadata.name))) {
      return [`${id(r)}: a Secret written in YAML, not generated from a git-ignored file`];
    }
    return [];
  });
}

// ---------------------------------------------------------------------------------------------
// Network flows: what the NetworkPolicies allow, evaluated like a CNI would
// ---------------------------------------------------------------------------------------------

/** A pod (or an address outside the cluster) that traffic goes from or to. */
export interface Endpoint {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  namespaceLabels: Record<string, string>;
  ports?: Record<string, number>;
  /** Outside the cluster (an ipBlock peer can match it). */
  external?: boolean;
  /** Its IPv4 address, for ipBlock peers (cidr and except). */
  ip?: string;
}

const ipv4 = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
/** Whether an IPv4 address is inside a CIDR block. */
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base) / size);
}

export function podEndpoints(resources: Resource[]): Endpoint[] {
  const namespaces = new Map(resources.filter((r) => r.kind === 'Namespace').map((r) => [r.metadata.name, r.metadata.labels ?? {}]));
  return workloadsOf(resources).map((w) => {
    const namespace = w.resource.metadata.namespace ?? 'default';
    const ports: Record<string, number> = {};
    for (const c of w.pod.containers ?? []) for (const p of c.ports ?? []) if (p.name) ports[p.name] = p.containerPort;
    return { name: id(w.resource), namespace, labels: w.labels, namespaceLabels: { 'kubernetes.io/metadata.name': namespace, ...namespaces.get(namespace) }, ports };
  });
}

function peerMatches(peer: Obj, other: Endpoint, policyNamespace: string): boolean {
  if (peer.ipBlock) {
    if (!other.external) return false;
    if (!other.ip) return true;
    return inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c: string) => inCidr(other.ip!, c));
  }
  if (other.external) return false;
  const namespaceOk = peer.namespaceSelector ? selectorMatches(peer.namespaceSelector, other.namespaceLabels) : other.namespace === policyNamespace;
  return namespaceOk && (peer.podSelector ? selectorMatches(peer.podSelector, other.labels) : true);
}

function portMatches(ports: Obj[] | undefined, target: Endpoint, port: number, protocol: string): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => (p.protocol ?? 'TCP') === protocol && (p.port === undefined || p.port === port || target.ports?.[p.port] === port));
}

/** One direction: do `owner`'s policies of this type let traffic to/from `other` on the port? */
function side(policies: Resource[], owner: Endpoint, other: Endpoint, type: 'Ingress' | 'Egress', port: number, protocol: string, target: Endpoint): boolean {
  if (owner.external) return true;
  const selecting = policies.filter(
    (p) => (p.metadata.namespace ?? 'default') === owner.namespace && selectorMatches(p.spec.podSelector, owner.labels) && (p.spec.policyTypes ?? ['Ingress']).includes(type),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    ((type === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? []).some((rule: Obj) => {
      // A rule without peers (or with an empty list) matches every source or destination.
      const peers: Obj[] = (type === 'Ingress' ? rule.from : rule.to) ?? [];
      const peerOk = peers.length === 0 || peers.some((peer) => peerMatches(peer, other, owner.namespace));
      return peerOk && portMatches(rule.ports, target, port, protocol);
    }),
  );
}

/** Whether a connection from `from` to `to` on `port` is allowed: egress of one and ingress of the other. */
export function allowed(policies: Resource[], from: Endpoint, to: Endpoint, port: number, protocol = 'TCP'): boolean {
  return side(policies, from, to, 'Egress', port, protocol, to) && side(policies, to, from, 'Ingress', port, protocol, to);
}
