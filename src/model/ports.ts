import { dataPortsOf } from './data-services.js';
import { GRAFANA_PORT } from './monitoring.js';
import type { StackConfig } from './types.js';

/** The Node inspector of the i-th service is published on 9229 + i in development. */
export function debugPortOf(index: number): number {
  return 9229 + index;
}

/** A port published on the developer's host, and what publishes it. */
export interface HostPort {
  port: number;
  owner: string;
  /** The answer that chose it, when a person can change it (services.<name>.port). */
  field?: string;
}

/** Host ports that do not depend on the services: the gateway's and the data services'. */
export function fixedHostPorts(stack: Pick<StackConfig, 'database' | 'cache' | 'queue' | 'search' | 'storage' | 'monitoring'>): HostPort[] {
  return [
    { port: 80, owner: 'the gateway' },
    { port: 443, owner: 'the gateway' },
    ...dataPortsOf(stack).map(([port, owner]) => ({ port, owner })),
    ...(stack.monitoring === 'prometheus' ? [{ port: GRAFANA_PORT, owner: 'Grafana' }] : []),
  ];
}

/**
 * Every host port the stack publishes (compose.yaml and compose.override.yaml): two owners of
 * one port make `docker compose up` fail, so validation refuses them.
 */
export function hostPorts(config: StackConfig): HostPort[] {
  return [
    ...fixedHostPorts(config),
    ...config.services.flatMap((s, i) => [
      { port: s.port, owner: `service ${s.name}`, field: `services.${s.name}.port` },
      { port: debugPortOf(i), owner: `the Node inspector of service ${s.name}` },
    ]),
  ];
}
