// NGINX Gateway Fabric's policies (gateway.nginx.org/v1alpha1), written from its API types
// (apis/v1alpha1/clientsettingspolicy_types.go and ratelimitpolicy_types.go, NGF 2.4+): no npm
// package ships them. The interfaces feed the unknown-field check (helpers/k8s.ts); ngfPolicyProblems
// checks what the CRDs' validation rules say (patterns, ranges, target kinds).
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';

/** `^\d{1,4}(k|m|g)?$`: 1024, 8k, 1m. */
type Size = string;
/** `^\d+r/[sm]$`. */
type Rate = string;
/** Go duration subset, e.g. 10s. */
type Duration = string;
interface LocalPolicyTargetReference {
  group: string;
  kind: string;
  name: string;
}

export interface ClientSettingsPolicy {
  apiVersion: 'gateway.nginx.org/v1alpha1';
  kind: 'ClientSettingsPolicy';
  metadata: ObjectMeta;
  spec: {
    body?: { maxSize?: Size; bufferSize?: Size; timeout?: Duration };
    keepAlive?: { requests?: number; time?: Duration; timeout?: { server?: Duration; header?: Duration }; minTimeout?: Duration };
    targetRef: LocalPolicyTargetReference;
  };
}

export interface RateLimitPolicy {
  apiVersion: 'gateway.nginx.org/v1alpha1';
  kind: 'RateLimitPolicy';
  metadata: ObjectMeta;
  spec: {
    rateLimit?: {
      local?: { rules?: { zoneSize?: Size; delay?: number; noDelay?: boolean; burst?: number; rate: Rate; key: string }[] };
      dryRun?: boolean;
      logLevel?: 'info' | 'notice' | 'warn' | 'error';
      rejectCode?: number;
    };
    targetRefs: LocalPolicyTargetReference[];
  };
}

const SIZE = /^\d{1,4}(k|m|g)?$/;
const RATE = /^\d+r\/[sm]$/;
const KEY = /^(?:[^ \t\r\n;{}#$]+|\$\w+)+$/;
const GROUP = 'gateway.networking.k8s.io';

/** The CRDs' validation rules for the two policies; [] when the resource passes. */
export function ngfPolicyProblems(r: ClientSettingsPolicy | RateLimitPolicy): string[] {
  const id = `${r.kind}/${r.metadata.name}`;
  const problems: string[] = [];
  if (r.kind === 'ClientSettingsPolicy') {
    const t = r.spec.targetRef;
    if (t?.group !== GROUP || !['Gateway', 'HTTPRoute', 'GRPCRoute'].includes(t.kind)) problems.push(`${id}: targetRef must be a Gateway, HTTPRoute or GRPCRoute of ${GROUP}`);
    for (const [field, value] of Object.entries(r.spec.body ?? {})) if (field !== 'timeout' && !SIZE.test(String(value))) problems.push(`${id}: body.${field} ${value} is not a size`);
    return problems;
  }
  const refs = r.spec.targetRefs ?? [];
  if (refs.length < 1 || refs.length > 16) problems.push(`${id}: 1 to 16 targetRefs`);
  for (const t of refs) if (t.group !== GROUP || !['Gateway', 'HTTPRoute', 'GRPCRoute'].includes(t.kind)) problems.push(`${id}: target ${t.kind}/${t.name} is not a Gateway, HTTPRoute or GRPCRoute of ${GROUP}`);
  if (refs.some((t) => t.kind === 'Gateway') && refs.some((t) => t.kind !== 'Gateway')) problems.push(`${id}: a Gateway target cannot be mixed with routes`);
  const code = r.spec.rateLimit?.rejectCode;
  if (code !== undefined && (code < 400 || code > 599)) problems.push(`${id}: rejectCode ${code} is not 400-599`);
  for (const rule of r.spec.rateLimit?.local?.rules ?? []) {
    if (!RATE.test(rule.rate)) problems.push(`${id}: rate ${rule.rate} is not <n>r/s or <n>r/m`);
    if (!KEY.test(rule.key)) problems.push(`${id}: key ${rule.key} is not an nginx key`);
    if (rule.zoneSize !== undefined && !SIZE.test(rule.zoneSize)) problems.push(`${id}: zoneSize ${rule.zoneSize} is not a size`);
    if (rule.noDelay && rule.delay !== undefined) problems.push(`${id}: noDelay cannot be true when delay is set`);
  }
  return problems;
}
