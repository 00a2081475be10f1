import * as z from 'zod';
import { typeField } from '../../config/base.js';
import { checkCommandSize } from '../../config/exec-limits.js';
import {
  documented,
  MIN_MEMORY_LIMIT_BYTES,
  memorySize,
  strictObject,
} from '../../config/fields.js';
import { bindList, containerPath } from '../../config/mounts.js';
import type { PathContext } from '../../config/path-context.js';
import { resolveConfigPath } from '../../config/path-context.js';
import { markPathField, rebasePath } from '../../config/path-fields.js';
import { anyPath, checkPathKind, existingPath } from '../../config/paths.js';
import { notBoth, oneOf, schemaRules } from '../../config/schema-rules.js';
import {
  IMAGE_REFERENCE_FORM,
  IMAGE_REFERENCE_SOURCE,
  imageReferenceProblem,
} from './image-reference.js';
import { DEFAULT_MOUNT_PATH } from './mount-path.js';

/** Image references that Apptainer pulls rather than reads from disk. */
export const REMOTE_IMAGE_PATTERN = /^(?:docker|oras|library):\/\/\S+$/;
const SCHEME_PATTERN = /^[a-z][a-z0-9+.-]*:\/\//;
/** Anything, but a docker:// reference must follow Docker's grammar, as Apptainer hands it to a registry. */
const DOCKER_SCHEME_PATTERN = new RegExp(
  `^(?:(?!docker://)[\\s\\S]*|docker://${IMAGE_REFERENCE_SOURCE})$`,
);

/** A remote reference, or one with a scheme that is refused as it is, is not a path. */
export function rebaseImage(written: string, dir: string): string {
  return SCHEME_PATTERN.test(written) ? written : rebasePath(written, dir);
}

function imageField(ctx: PathContext) {
  const field = documented(
    z
      .string()
      .min(1, { error: 'image cannot be empty' })
      .regex(DOCKER_SCHEME_PATTERN, {
        error: (issue) =>
          `docker:// ${imageReferenceProblem(String(issue.input).slice('docker://'.length))}`,
      })
      .meta({ patternErrorMessage: `after docker://, ${IMAGE_REFERENCE_FORM}` }),
    {
      description:
        'Image to run: a .sif file, a sandbox directory, or a docker://, oras:// or library:// reference, which is pulled once into the cache. Give this or `definition`, not both.',
      examples: ['docker://ubuntu:22.04', 'images/model.sif'],
    },
  ).transform((written, zctx) => {
    if (REMOTE_IMAGE_PATTERN.test(written)) return written;
    if (SCHEME_PATTERN.test(written)) {
      zctx.issues.push({
        code: 'custom',
        input: written,
        message: `image "${written}" uses an unsupported scheme: use docker://, oras:// or library://, or a path to a .sif file or sandbox directory`,
      });
      return written;
    }
    const absolute = resolveConfigPath(ctx, written);
    const problem = checkPathKind(ctx, written, absolute, 'exists');
    if (problem !== undefined)
      zctx.issues.push({ code: 'custom', input: written, message: `image ${problem}` });
    return absolute;
  });
  return markPathField(field, rebaseImage);
}

function flag(description: string, fallback: boolean) {
  return documented(z.boolean(), { description, examples: [!fallback] }).default(fallback);
}

/** The container settings, shared by the apptainer backend and a Slurm job's `container:` block. */
export function apptainerFields(ctx: PathContext) {
  return {
    image: imageField(ctx).optional(),
    definition: existingPath(ctx, 'file', {
      description:
        'Apptainer definition (.def) file to build the image from. The built image is cached by the content of the file. Give this or `image`, not both.',
      examples: ['model.def'],
    }).optional(),
    binds: bindList(ctx),
    cleanenv: flag(
      "Start from a clean environment (--cleanenv) instead of inheriting the host's.",
      true,
    ),
    no_home: flag(
      "Do not mount the user's home directory (--no-home). Ignored when `home` is set.",
      true,
    ),
    home: documented(z.string().min(1, { error: 'home cannot be empty' }), {
      description:
        'Home directory to use in the container (--home src[:dst]), instead of --no-home.',
      examples: ['/scratch/me/home:/home/me'],
    }).optional(),
    mount_path: containerPath({
      description:
        "Where the run's staging directory (or working_dir) is bound in the container; the model runs there unless `pwd` says otherwise.",
      examples: ['/app/run'],
    }).default(DEFAULT_MOUNT_PATH),
    containall: flag(
      'Isolate the container fully from the host: no host /tmp, /dev or $HOME (--containall).',
      false,
    ),
    writable_tmpfs: flag(
      'Give the container a writable in-memory overlay (--writable-tmpfs).',
      false,
    ),
    nv: flag('Make NVIDIA GPUs and their driver libraries available (--nv).', false),
    rocm: flag('Make AMD GPUs and their ROCm libraries available (--rocm).', false),
    pwd: documented(
      z.string().regex(/^\//, {
        error: 'must be an absolute path inside the container, such as "/app/run"',
      }),
      {
        description:
          "Working directory inside the container (--pwd). Defaults to where the run's staging directory is mounted.",
        examples: ['/app/run'],
      },
    ).optional(),
    executable: documented(
      z.string().min(1, { error: 'executable cannot be empty' }).superRefine(checkCommandSize),
      {
        description: "Command to run in the container instead of the model's own `command`.",
        examples: ['/opt/model/bin/run'],
      },
    ).optional(),
    mpiexec: documented(z.string().min(1, { error: 'mpiexec cannot be empty' }), {
      description:
        'MPI launcher to run outside the container, in the hybrid model: `<mpiexec> -n <cpu> apptainer exec …`.',
      examples: ['mpirun', 'srun --mpi=pmix'],
    }).optional(),
    cpu: documented(z.number().int().min(1).max(128), {
      description:
        'CPUs the container may use (--cpus, 1 to 128). With `mpiexec`, the number of processes instead (`-n`), and no --cpus limit.',
      examples: [4],
    }).optional(),
    memory: memorySize(
      {
        description:
          'Memory limit (--memory), such as "512m" or "2g", at least "6m" (text without a unit is bytes; a bare number is refused).',
        examples: ['4g'],
      },
      { minBytes: MIN_MEMORY_LIMIT_BYTES },
    ).optional(),
    cache_dir: anyPath(ctx, {
      description:
        'Where pulled and built images are kept. Defaults to APPTAINER_CACHEDIR, else a modelrun folder in your cache directory.',
      examples: ['~/.cache/modelrun/apptainer'],
    }).optional(),
    binary: documented(z.enum(['apptainer', 'singularity']), {
      description:
        'Container runtime to call: "apptainer", or "singularity" on clusters that still ship SingularityCE.',
      examples: ['singularity'],
    }).default('apptainer'),
    extra_args: documented(z.array(z.string()), {
      description: 'Extra flags passed to `exec` as they are, before the image.',
      examples: [['--fakeroot']],
    }).optional(),
  };
}

/** Exactly one of image and definition, in the JSON Schema too. */
const ONE_IMAGE_SOURCE = schemaRules(
  notBoth('image', 'definition', 'cannot specify both image and definition'),
  oneOf(['image', 'definition'], 'either image or definition must be provided'),
);

function checkImageSource(
  config: { image?: unknown; definition?: unknown },
  zctx: z.RefinementCtx,
): void {
  if (config.image !== undefined && config.definition !== undefined) {
    zctx.addIssue({
      code: 'custom',
      path: ['definition'],
      input: config,
      message: 'cannot specify both image and definition',
    });
  } else if (config.image === undefined && config.definition === undefined) {
    zctx.addIssue({
      code: 'custom',
      path: [],
      input: config,
      message: 'either image or definition must be provided',
    });
  }
}

// Checked even when other fields are invalid, so one pass reports every problem.
const ALWAYS = { when: () => true };

/** Exactly one of image and definition, checked on a config or block that has both fields. */
export function oneImageSource<T extends z.ZodType<{ image?: unknown; definition?: unknown }>>(
  schema: T,
): T {
  return schema.meta(ONE_IMAGE_SOURCE).superRefine(checkImageSource, ALWAYS);
}

/** An apptainer block inside another backend's config: the container settings, without the run-wide ones. */
export function apptainerContainerSchema(ctx: PathContext) {
  return oneImageSource(
    strictObject({
      type: typeField('apptainer', 'Runs the command in an Apptainer (or Singularity) container.'),
      ...apptainerFields(ctx),
    }),
  );
}

export type ApptainerContainerConfig = z.output<ReturnType<typeof apptainerContainerSchema>>;
