import type { StackConfig } from './types.js';

/**
 * Where the service images live: one fact for the Docker workflow (push), compose.prod.yaml and
 * every overlay (pull), deploy.yml and the README, so they can never name different images.
 */
export interface ServiceImages {
  /** Registry and namespace, e.g. ghcr.io/acme (infra-stack.yaml `registry`). */
  registry: string;
  /** The registry's host, what `docker login` names. */
  host: string;
  /** GHCR accepts the workflow's own GITHUB_TOKEN; any other registry needs REGISTRY_* secrets. */
  ghcr: boolean;
  /**
   * The first release's tag, where the overlays start: the Docker workflow pushes it for the git
   * tag `v<it>` (metadata-action's semver rule). Deploys pin `sha-<commit>` or a release instead.
   */
  firstRelease: string;
}

export function serviceImages(config: Pick<StackConfig, 'name' | 'registry'>): ServiceImages {
  const registry = config.registry ?? `ghcr.io/${config.name}`;
  const host = registry.split('/')[0]!;
  return { registry, host, ghcr: host === 'ghcr.io', firstRelease: '0.1.0' };
}

/** A service's image repository (no tag): `<registry>/<stack>-<service>`. */
export function imageName(images: ServiceImages, stack: string, service: string): string {
  return `${images.registry}/${stack}-${service}`;
}
