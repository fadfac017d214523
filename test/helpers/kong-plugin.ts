// The KongPlugin custom resource (configuration.konghq.com/v1), from Kong's CRD
// (kong/kubernetes-configuration, KongPlugin spec), for the unknown-field check in helpers/k8s.ts:
// no npm package ships its types. `config` is free-form per plugin in the CRD; its fields are
// checked against Kong's plugin schemas by kongPluginProblems (helpers/k8s.ts).
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';

type Protocol = 'http' | 'https' | 'grpc' | 'grpcs' | 'tcp' | 'tls' | 'tls_passthrough' | 'udp' | 'ws' | 'wss';
type ValueFrom = { secretKeyRef: { name: string; key: string } };

export interface KongPlugin {
  apiVersion: 'configuration.konghq.com/v1';
  kind: 'KongPlugin';
  metadata: ObjectMeta;
  plugin: string;
  config?: Record<string, unknown>;
  configFrom?: ValueFrom;
  configPatches?: { path: string; valueFrom: ValueFrom }[];
  consumerRef?: string;
  disabled?: boolean;
  instance_name?: string;
  ordering?: { before?: Record<string, string[]>; after?: Record<string, string[]> };
  protocols?: Protocol[];
  run_on?: string;
}
