import type { UndoContext } from '../../exec/guard.js';
import { ALREADY_DONE, engineAddress, engineRequest } from './docker-engine-api.js';

/** A container: removed, or only killed when the config keeps it. */
export interface DockerContainerTask {
  kind: 'docker-container';
  id: string;
  engine: string;
  remove: boolean;
}

/**
 * The guardian's half of a container, through the engine's API directly:
 * dockerode would triple what the guardian loads, for one request.
 */
export async function removeAbandonedContainer(
  task: DockerContainerTask,
  { env }: Pick<UndoContext, 'env'>,
): Promise<void> {
  const address = engineAddress({ ...env, DOCKER_HOST: task.engine });
  const path = task.remove
    ? `/containers/${task.id}?force=true&v=true`
    : `/containers/${task.id}/kill`;
  const { status, body } = await engineRequest(
    address,
    task.remove ? 'DELETE' : 'POST',
    path,
    30_000,
  );
  if (status >= 300 && !ALREADY_DONE.includes(status))
    throw new Error(`the engine answered ${status}: ${body.trim()}`);
}

/** Where to look for the containers a job started, and what to do with them. */
export interface LabelledContainers {
  engine: string;
  /** name=value */
  label: string;
  remove: boolean;
}

/** Removes (or, when kept, kills) every container that carries the label. */
export async function removeLabelledContainers(
  containers: LabelledContainers,
  context: Pick<UndoContext, 'env'>,
): Promise<void> {
  const address = engineAddress({ ...context.env, DOCKER_HOST: containers.engine });
  const filters = encodeURIComponent(JSON.stringify({ label: [containers.label] }));
  const listed = await engineRequest(
    address,
    'GET',
    `/containers/json?all=true&filters=${filters}`,
    10_000,
  );
  if (listed.status !== 200) return;
  for (const { Id } of JSON.parse(listed.body) as { Id: string }[])
    await removeAbandonedContainer(
      { kind: 'docker-container', id: Id, engine: containers.engine, remove: containers.remove },
      context,
    );
}
