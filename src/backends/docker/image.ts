import { join } from 'node:path';
import { isKnownError, RunFailedError } from '../../errors.js';
import { VERSION } from '../../package-info.js';
import { count } from '../../plural.js';
import type { DockerEngine } from './client.js';
import type { DockerConfig } from './config.js';
import { answered } from './deadline.js';
import { messageError, type ProgressSink, PullDisplay } from './progress.js';

export interface ImageDeps {
  status(line: string): void;
  progress: ProgressSink;
  signal: AbortSignal;
  /** How long an image lookup may wait for the engine (ENGINE_ANSWER_MS). */
  answerMs?: number;
}

/** Whether the image is on the engine, asked within the deadline for quick calls. */
function lookUp(engine: DockerEngine, reference: string, deps: ImageDeps): Promise<boolean> {
  return answered((signal) => engine.imageExists(reference, signal), {
    address: engine.address,
    what: `the lookup of the image ${reference}`,
    stop: deps.signal,
    ms: deps.answerMs,
  });
}

/** The image the run uses: pulled as pull_policy says, or built from the Dockerfile. */
export async function ensureImage(
  engine: DockerEngine,
  config: DockerConfig,
  deps: ImageDeps,
): Promise<string> {
  if (config.image !== undefined)
    return ensurePulled(engine, config.image, config.pull_policy, deps);
  return ensureBuilt(engine, config, deps);
}

async function ensurePulled(
  engine: DockerEngine,
  image: string,
  policy: DockerConfig['pull_policy'],
  deps: ImageDeps,
): Promise<string> {
  const present = await lookUp(engine, image, deps).catch((error: Error) => {
    throw isKnownError(error) ? error : lookupFailed(engine, image, error);
  });
  if (policy === 'never' && !present) {
    throw new RunFailedError(
      `the image ${image} is not on the Docker engine at ${engine.address}, and pull_policy is never`,
      {
        hint: `pull or build it first (docker pull ${image}), or set pull_policy: missing`,
      },
    );
  }
  if (policy === 'always' || !present) await pull(engine, image, deps);
  return image;
}

/**
 * The engine's refusal to look an image up. A 400 is its verdict on the
 * name ("invalid reference format"): a name validation let through, as an
 * engine's grammar may be stricter than ours.
 */
function lookupFailed(engine: DockerEngine, image: string, error: Error): RunFailedError {
  const refused = (error as { statusCode?: number }).statusCode === 400;
  const said = (error as { json?: { message?: string } }).json?.message ?? error.message;
  return refused
    ? new RunFailedError(
        `the Docker engine at ${engine.address} refuses the image name "${image}": ${said.trim()}`,
        {
          hint: 'fix `image` in the backend config: a lower-case name such as "ubuntu:22.04" or "registry.example.com/team/model:1.2"',
          cause: error,
        },
      )
    : new RunFailedError(
        `the Docker engine at ${engine.address} could not look up the image "${image}": ${said.trim()}`,
        { hint: 'check the engine with `docker info`, then run again', cause: error },
      );
}

async function pull(engine: DockerEngine, image: string, deps: ImageDeps): Promise<void> {
  deps.status(`pulling ${image}`);
  const display = new PullDisplay(deps.progress);
  try {
    for await (const message of await engine.pull(image, deps.signal)) {
      const error = messageError(message);
      // dockerode resolves a failed pull like a good one; the failure is a message in the stream.
      if (error !== undefined) throw new Error(error);
      display.update(message);
    }
  } catch (error) {
    throw new RunFailedError(`pulling ${image} failed: ${(error as Error).message}`, {
      hint: 'check the image name and that the registry is reachable, or use pull_policy: never with an image that is already there',
      cause: error,
    });
  }
}

async function ensureBuilt(
  engine: DockerEngine,
  config: DockerConfig,
  deps: ImageDeps,
): Promise<string> {
  // Loaded for a build only: its tar writer is no part of a run of an image.
  const { buildTag, contextTar, readBuildContext } = await import('./build-context.js');
  const contextDir = config.build_context as string;
  const context = await readBuildContext(contextDir, join(contextDir, config.dockerfile as string));
  const buildArgs = config.build_args ?? {};
  const tag = await buildTag(context, buildArgs);
  if (config.pull_policy !== 'always' && (await lookUp(engine, tag, deps))) {
    deps.status(
      `using ${tag}, already built from ${context.dockerfilePath} with this context and these build args`,
    );
    return tag;
  }
  deps.status(
    `building ${tag} from ${context.dockerfilePath} (${count(context.entries.length, 'entry', 'entries')} in the context)`,
  );
  let lastStep = '';
  try {
    const messages = await engine.build(
      contextTar(context),
      {
        tag,
        dockerfile: context.dockerfile,
        buildArgs,
        pull: config.pull_policy === 'always',
        labels: { 'modelrun.version': VERSION },
      },
      deps.signal,
    );
    for await (const message of messages) {
      const error = messageError(message);
      if (error !== undefined) throw new Error(error.trim());
      for (const line of (message.stream ?? '').split('\n')) {
        if (line.trim() === '') continue;
        if (/^Step \d+\/\d+ :/.test(line)) lastStep = line.trim();
        deps.status(`  ${line}`);
      }
    }
  } catch (error) {
    const at = lastStep === '' ? '' : ` at ${lastStep}`;
    throw new RunFailedError(
      `building the image from ${context.dockerfilePath} failed${at}: ${(error as Error).message}`,
      {
        hint: 'fix the Dockerfile; the build output above shows the failing step',
        cause: error,
      },
    );
  }
  if (!(await lookUp(engine, tag, deps))) {
    throw new RunFailedError(`the build of ${tag} ended without producing the image`, {
      hint: 'see the build output above',
    });
  }
  return tag;
}
