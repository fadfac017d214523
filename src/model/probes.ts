/**
 * The endpoints the sample serves and every probe calls: a fact shared by compose, the
 * Dockerfile, Kubernetes and the scripts.
 *   live:   the process answers; checks nothing else (liveness, startup).
 *   ready:  this instance can serve: the dependencies a request needs answer (readiness, compose).
 *   report: every dependency, with latencies (people, scripts/health-check.sh).
 */
export const HEALTH_PATHS = { live: '/livez', ready: '/readyz', report: '/health' } as const;

/** Exec-form probe of a path on the service's port (Dockerfile HEALTHCHECK, compose healthcheck): images have no curl. */
export function healthCommand(port: number, path: string): string[] {
  return ['node', '-e', `fetch('http://127.0.0.1:${port}${path}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`];
}
