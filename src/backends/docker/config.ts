import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import * as z from 'zod';
import { commonFields, typeField } from '../../config/base.js';
import { checkCommandSize } from '../../config/exec-limits.js';
import {
  documented,
  MIN_MEMORY_LIMIT_BYTES,
  memorySize,
  strictObject,
  stringMap,
} from '../../config/fields.js';
import { containerPath, volumeList } from '../../config/mounts.js';
import type { PathContext } from '../../config/path-context.js';
import { checkPathKind, existingPath } from '../../config/paths.js';
import { notBoth, oneOf, onlyWith, schemaRules } from '../../config/schema-rules.js';
import {
  IMAGE_REFERENCE_FORM,
  IMAGE_REFERENCE_PATTERN,
  imageReferenceProblem,
} from '../containers/image-reference.js';
import { DEFAULT_MOUNT_PATH } from '../containers/mount-path.js';

const USER_PATTERN = /^[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+)?$/;
const NETWORK_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

const GPUS_MESSAGE =
  'must be "all", a number of GPUs (at least 1), or a list of device ids such as [0, 1]';

const BUILD_ONLY_FIELDS = ['build_context', 'build_args'] as const;

/** The image to run, as the Docker CLI takes it. */
function imageField() {
  return {
    image: documented(
      z
        .string()
        .regex(IMAGE_REFERENCE_PATTERN, {
          error: (issue) => imageReferenceProblem(String(issue.input)),
        })
        .meta({ patternErrorMessage: IMAGE_REFERENCE_FORM }),
      {
        description: 'Image to run, as `docker run` takes it. Give this or `dockerfile`, not both.',
        examples: ['ubuntu:22.04', 'registry.example.com/ocean/ww3:7.14', 'name@sha256:<digest>'],
      },
    ).optional(),
  };
}

/** How to build the image instead of naming one. */
function buildFields(ctx: PathContext) {
  return {
    dockerfile: documented(
      z
        .string()
        .min(1, { error: 'dockerfile cannot be empty' })
        .refine((path) => !isAbsolute(path), {
          error: 'must be a path relative to build_context, not an absolute path',
        }),
      {
        description:
          "Dockerfile to build the image from, relative to `build_context` (or to this config file's folder when build_context is not set). Give this or `image`, not both.",
        examples: ['Dockerfile'],
      },
    ).optional(),
    build_context: existingPath(ctx, 'directory', {
      description:
        "Folder sent to the engine as the build context. Defaults to the Dockerfile's folder. Only with `dockerfile`.",
      examples: ['.'],
    }).optional(),
    build_args: stringMap(
      {
        description: 'Build arguments (ARG values) for the Dockerfile. Only with `dockerfile`.',
        examples: [{ MODEL_VERSION: '7.14' }],
      },
      { names: 'any' },
    ),
  };
}

/** The container's settings, shared by the docker backend and a Slurm job's `container:` block. */
function containerFields(ctx: PathContext) {
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

export function dockerConfigSchema(ctx: PathContext) {
  return strictObject({
    type: typeField('docker', 'Runs the model in a Docker container.'),
    ...commonFields(ctx),
    ...imageField(),
    ...buildFields(ctx),
    ...containerFields(ctx),
    docker_host: documented(
      z.string().regex(/^(?:unix:\/\/\/|tcp:\/\/|https?:\/\/)\S+$/, {
        error: 'must be unix:///path/to/docker.sock or tcp://host:port',
      }),
      {
        description:
          'Docker engine to use, as DOCKER_HOST spells it. DOCKER_HOST, when set, takes precedence. Default: unix:///var/run/docker.sock.',
        examples: ['unix:///run/user/1000/docker.sock', 'tcp://build-host:2375'],
      },
    ).optional(),
  })
    .meta(
      // Exactly one image source, and build settings only with a Dockerfile.
      schemaRules(
        notBoth('image', 'dockerfile', 'cannot specify both image and dockerfile'),
        oneOf(['image', 'dockerfile'], 'either image or dockerfile must be provided'),
        ...BUILD_ONLY_FIELDS.map((field) =>
          onlyWith(field, 'dockerfile', 'only applies when building from a dockerfile'),
        ),
      ),
    )
    .superRefine(
      (config, zctx) => {
        const issue = (path: string, message: string) =>
          zctx.addIssue({ code: 'custom', path: [path], message, input: config });
        const hasImage = config.image !== undefined;
        const dockerfile = config.dockerfile;
        if (hasImage && dockerfile !== undefined) {
          issue('dockerfile', 'cannot specify both image and dockerfile');
        } else if (!hasImage && dockerfile === undefined) {
          zctx.addIssue({
            code: 'custom',
            path: [],
            message: 'either image or dockerfile must be provided',
            input: config,
          });
        }
        if (dockerfile === undefined) {
          for (const field of BUILD_ONLY_FIELDS) {
            if (config[field] !== undefined)
              issue(field, 'only applies when building from a dockerfile');
          }
          return;
        }
        // Fields that failed their own checks are already reported; check the
        // Dockerfile only against a build context that is really there.
        const context = config.build_context ?? ctx.baseDir;
        if (
          typeof dockerfile !== 'string' ||
          isAbsolute(dockerfile) ||
          ctx.kindOf(context) !== 'directory'
        )
          return;
        const problem = checkPathKind(ctx, dockerfile, join(context, dockerfile), 'file');
        if (problem !== undefined) issue('dockerfile', problem);
      },
      // Run even when other fields are invalid, so one pass reports every problem.
      { when: () => true },
    )
    .transform((config) =>
      // Without build_context, the Dockerfile's own folder is the context, so
      // that the runner never needs to know where the config file was.
      config.dockerfile === undefined || config.build_context !== undefined
        ? config
        : {
            ...config,
            build_context: dirname(resolve(ctx.baseDir, config.dockerfile)),
            dockerfile: basename(config.dockerfile),
          },
    );
}

export type DockerConfig = z.output<ReturnType<typeof dockerConfigSchema>>;

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
    image: documented(
      z
        .string()
        .regex(IMAGE_REFERENCE_PATTERN, {
          error: (issue) => imageReferenceProblem(String(issue.input)),
        })
        .meta({ patternErrorMessage: IMAGE_REFERENCE_FORM }),
      {
        description: 'Image to run; it must exist or be pullable on the compute node.',
        examples: ['registry.example.com/ocean/ww3:7.14'],
      },
    ),
    ...containerFields(ctx),
  });
}

export type DockerContainerConfig = z.output<ReturnType<typeof dockerContainerSchema>>;
