/**
 * The probe endpoints the sample serves: a fact shared by compose, the Dockerfile and Kubernetes.
 *   live:  the process answers; checks nothing else (liveness, startup).
 *   ready: this instance can serve: the dependencies a request needs answer (readiness, compose).
 * Beside them /health reports every dependency, for people and scripts/health-check.sh.
 */
export const HEALTH_PATHS = { live: '/livez', ready: '/readyz' } as const;

/** Exec-form probe of a path on the service's port (Dockerfile HEALTHCHECK, compose healthcheck): images have no curl. */
export function healthCommand(port: number, path: string): string[] {
  return ['node', '-e', `fetch('http://127.0.0.1:${port}${path}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`];
}
