import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import * as z from 'zod';
import { commonFields, typeField } from '../../config/base.js';
import { documented, strictObject, stringMap } from '../../config/fields.js';
import type { PathContext } from '../../config/path-context.js';
import { markPathField } from '../../config/path-fields.js';
import { checkPathKind, existingPath } from '../../config/paths.js';
import { notBoth, oneOf, onlyWith, schemaRules } from '../../config/schema-rules.js';
import { dockerContainerFields, dockerImageReference } from '../containers/docker-fields.js';

const BUILD_ONLY_FIELDS = ['build_context', 'build_args'] as const;

/** The image to run, as the Docker CLI takes it. */
function imageField() {
  return {
    image: documented(dockerImageReference(), {
      description: 'Image to run, as `docker run` takes it. Give this or `dockerfile`, not both.',
      examples: ['ubuntu:22.04', 'registry.example.com/ocean/ww3:7.14', 'name@sha256:<digest>'],
    }).optional(),
  };
}

/** How to build the image instead of naming one. */
function buildFields(ctx: PathContext) {
  return {
    dockerfile: documented(
      markPathField(
        z
          .string()
          .min(1, { error: 'dockerfile cannot be empty' })
          .refine((path) => !isAbsolute(path), {
            error: 'must be a path relative to build_context, not an absolute path',
          }),
        rebaseDockerfile,
      ),
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

export function dockerConfigSchema(ctx: PathContext) {
  return strictObject({
    type: typeField('docker', 'Runs the model in a Docker container.'),
    ...commonFields(ctx),
    ...imageField(),
    ...buildFields(ctx),
    ...dockerContainerFields(ctx),
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
 * A Dockerfile is relative to build_context, which moves on its own; without
 * one, to the config's folder, which is then the context: it moves by
 * naming that context (what the schema's transform would make of it there).
 */
function rebaseDockerfile(
  written: string,
  dir: string,
  siblings: Readonly<Record<string, unknown>>,
): string | Readonly<Record<string, string>> {
  if (siblings.build_context !== undefined || written === '' || isAbsolute(written)) return written;
  return { build_context: dirname(resolve(dir, written)), dockerfile: basename(written) };
}
