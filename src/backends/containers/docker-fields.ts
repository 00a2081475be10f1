import * as z from 'zod';
import { typeField } from '../../config/base.js';
import { checkCommandSize } from '../../config/exec-limits.js';
import {
  documented,
  MIN_MEMORY_LIMIT_BYTES,
  memorySize,
  strictObject,
} from '../../config/fields.js';
import { containerPath, volumeList } from '../../config/mounts.js';
import type { PathContext } from '../../config/path-context.js';
import {
  IMAGE_REFERENCE_FORM,
  IMAGE_REFERENCE_PATTERN,
  imageReferenceProblem,
} from './image-reference.js';
import { DEFAULT_MOUNT_PATH } from './mount-path.js';

const USER_PATTERN = /^[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+)?$/;
const NETWORK_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

const GPUS_MESSAGE =
  'must be "all", a number of GPUs (at least 1), or a list of device ids such as [0, 1]';

/** A Docker image reference, refused at validation when the engine would refuse it. */
export function dockerImageReference() {
  return z
    .string()
    .regex(IMAGE_REFERENCE_PATTERN, {
      error: (issue) => imageReferenceProblem(String(issue.input)),
    })
    .meta({ patternErrorMessage: IMAGE_REFERENCE_FORM });
}

/** The container's settings, shared by the docker backend and a Slurm job's `container:` block. */
export function dockerContainerFields(ctx: PathContext) {
  return {
    cpu: documented(z.number().int().min(1).max(128), {
      description:
        'CPUs the container may use (1 to 128). Also the process count given to `mpiexec`.',
      examples: [4],
    }).optional(),
    memory: memorySize(
      {
        description:
          'Memory limit, such as "512m" or "2g", at least "6m" (text without a unit is bytes; a bare number is refused). Swap is not added on top. A model that exceeds it is killed and reported as out of memory.',
        examples: ['4g'],
      },
      { minBytes: MIN_MEMORY_LIMIT_BYTES },
    ).optional(),
    shm_size: memorySize({
      description:
        'Size of /dev/shm, in the same form as `memory`. MPI and PyTorch often need more than the 64m default.',
      examples: ['1g'],
    }).optional(),
    volumes: volumeList(ctx),
    user: documented(
      z.string().regex(USER_PATTERN, {
        error:
          'must be a user name or uid, optionally with a group: "1000", "1000:1000" or "model:staff"',
      }),
      {
        description:
          'User (and group) the model runs as. Defaults to your own uid:gid so that outputs are owned by you; set "root" explicitly to run as root.',
        examples: ['1000:1000'],
      },
    ).optional(),
    executable: documented(
      z.string().min(1, { error: 'executable cannot be empty' }).superRefine(checkCommandSize),
      {
        description: "Command to run in the container instead of the model's own `command`.",
        examples: ['/opt/model/bin/ww3_shel'],
      },
    ).optional(),
    mpiexec: documented(z.string().min(1, { error: 'mpiexec cannot be empty' }), {
      description:
        'MPI launcher to wrap the command in. modelrun adds `-n <cpu>` unless the launcher already gives a process count.',
      examples: ['mpirun', 'mpirun -np 8'],
    }).optional(),
    mount_path: containerPath({
      description:
        "Where the run's staging directory (or working_dir) is mounted in the container; the model runs there.",
      examples: ['/app/run'],
    }).default(DEFAULT_MOUNT_PATH),
    remove_container: documented(z.boolean(), {
      description: 'Remove the container when the run ends. Set false to keep it for inspection.',
      examples: [false],
    }).default(true),
    gpus: documented(
      z.union(
        [
          z.literal('all'),
          z.number().int({ error: GPUS_MESSAGE }).min(1, { error: GPUS_MESSAGE }),
          z
            .array(z.union([z.string().min(1), z.number().int().min(0)]), { error: GPUS_MESSAGE })
            .min(1, { error: GPUS_MESSAGE }),
        ],
        { error: GPUS_MESSAGE },
      ),
      {
        description: 'GPUs to give the container: "all", a count, or a list of device ids.',
        examples: ['all', 2, [0, 1]],
      },
    ).optional(),
    network: documented(
      z.string().regex(NETWORK_PATTERN, {
        error: 'must be "bridge", "none", "host" or the name of a Docker network',
      }),
      {
        description:
          'Network to attach the container to: "bridge", "none", "host", or a named network.',
        examples: ['none'],
      },
    ).default('bridge'),
    pull_policy: documented(z.enum(['missing', 'always', 'never']), {
      description:
        'When to pull the image: "missing" pulls only when it is not present, "always" pulls every run, "never" fails if it is not present. For `dockerfile` builds, "always" pulls newer base images.',
      examples: ['never'],
    }).default('missing'),
  };
}

/**
 * A docker block inside another backend's config: an existing image and the
 * container's settings. A Slurm job runs it with the docker CLI of the
 * compute node, so there is no build and no engine address here.
 */
export function dockerContainerSchema(ctx: PathContext) {
  return strictObject({
    type: typeField(
      'docker',
      'Runs the command in a Docker container, with the docker CLI of the node.',
    ),
    image: documented(dockerImageReference(), {
      description: 'Image to run; it must exist or be pullable on the compute node.',
      examples: ['registry.example.com/ocean/ww3:7.14'],
    }),
    ...dockerContainerFields(ctx),
  });
}

export type DockerContainerConfig = z.output<ReturnType<typeof dockerContainerSchema>>;

/** The container settings of a docker config or block, without its image. */
export type DockerContainerFields = Omit<DockerContainerConfig, 'type' | 'image'>;
