import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { RunFailedError } from '../../errors.js';
import { LineTail } from '../../exec/line-tail.js';
import { runProcess } from '../../exec/process-runner.js';
import { type ApptainerContainerConfig, REMOTE_IMAGE_PATTERN } from './apptainer-fields.js';

/** What names an apptainer image and where it is kept: from an apptainer config or a Slurm job's block. */
export type ApptainerImageSource = Pick<
  ApptainerContainerConfig,
  'image' | 'definition' | 'cache_dir' | 'binary'
>;

export interface ImageDeps {
  env: Record<string, string>;
  status(line: string): void;
  signal: AbortSignal;
}

/**
 * cache_dir as it is; else a modelrun folder in APPTAINER_CACHEDIR (or
 * SINGULARITY_CACHEDIR for singularity), beside the tool's own cache; else
 * in the user's cache folder.
 */
export function cacheDir(config: ApptainerImageSource, env: NodeJS.ProcessEnv): string {
  if (config.cache_dir !== undefined) return config.cache_dir;
  const toolCache =
    config.binary === 'singularity'
      ? env.SINGULARITY_CACHEDIR || env.APPTAINER_CACHEDIR
      : env.APPTAINER_CACHEDIR;
  if (toolCache) return join(toolCache, 'modelrun');
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'modelrun', 'apptainer');
}

/** Where a pulled reference is kept: a readable name, plus a hash so that distinct references never share a file. */
export function pulledImagePath(cache: string, reference: string): string {
  const readable = reference.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return join(cache, `${readable}-${sha256(reference).slice(0, 12)}.sif`);
}

/** Where an image built from a definition is kept: named by the definition's content. */
export async function builtImagePath(cache: string, definition: string): Promise<string> {
  return join(cache, `def-${sha256(await readFile(definition)).slice(0, 12)}.sif`);
}

/** The image file a run uses, as it would be named, without pulling or building anything (for --dry-run). */
export async function plannedImage(
  config: ApptainerImageSource,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  if (config.definition !== undefined)
    return builtImagePath(cacheDir(config, env), config.definition);
  const image = config.image as string;
  return REMOTE_IMAGE_PATTERN.test(image) ? pulledImagePath(cacheDir(config, env), image) : image;
}

/**
 * The image a run uses: a local .sif or sandbox as it is; a remote reference
 * pulled once into the cache; a definition built once per content. Pulls and
 * builds of the same image take a file lock, so concurrent runs neither
 * repeat nor corrupt them, and write to a temporary name first.
 */
export async function ensureImage(config: ApptainerImageSource, deps: ImageDeps): Promise<string> {
  const target = await plannedImage(config, deps.env);
  if (config.definition === undefined && !REMOTE_IMAGE_PATTERN.test(config.image as string))
    return target;
  if (existsSync(target)) {
    deps.status(`using ${target}`);
    return target;
  }
  await mkdir(join(target, '..'), { recursive: true });
  const release = await lockImage(target, deps);
  try {
    if (existsSync(target)) {
      deps.status(`using ${target}, which another run has just made`);
      return target;
    }
    const temp = `${target}.${randomBytes(4).toString('hex')}.partial`;
    const [what, argv] =
      config.definition === undefined
        ? [`pulling ${config.image}`, [config.binary, 'pull', temp, config.image as string]]
        : [
            `building ${target} from ${config.definition}`,
            [config.binary, 'build', temp, config.definition],
          ];
    deps.status(what);
    try {
      // A build runs in the definition's folder, where its relative %files paths point.
      await runTool(
        argv,
        config.definition === undefined ? process.cwd() : dirname(config.definition),
        deps,
      );
      await requireImage(temp, argv.slice(0, 2).join(' '));
      await rename(temp, target);
    } finally {
      await rm(temp, { force: true, recursive: true });
    }
    return target;
  } finally {
    await release();
  }
}

/** Runs `apptainer pull` or `build`, its output streamed as status lines; fails with the tool's own last words. */
async function runTool(argv: string[], cwd: string, deps: ImageDeps): Promise<void> {
  const tails = { stdout: new LineTail(5), stderr: new LineTail(5) };
  const lines = (tail: LineTail) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        tail.push(chunk);
        for (const line of chunk.toString().split('\n'))
          if (line.trim() !== '') deps.status(`  ${line}`);
        callback();
      },
    });
  const [file = '', ...args] = argv;
  const outcome = await runProcess(
    { file, args, cwd, env: deps.env },
    { stdout: lines(tails.stdout), stderr: lines(tails.stderr) },
    { signal: deps.signal, graceMs: 5000 },
  );
  if (outcome.exitCode === 0) return;
  // The tool's own words: its stderr, else the end of its stdout.
  const said =
    [tails.stderr, tails.stdout]
      .map((tail) =>
        tail
          .lines()
          .filter((line) => line.trim() !== '')
          .join(' / '),
      )
      .find((text) => text !== '') ?? '';
  const how =
    outcome.startError ??
    (outcome.signal !== null ? `killed by ${outcome.signal}` : `exit code ${outcome.exitCode}`);
  throw new RunFailedError(
    `\`${argv.slice(0, 2).join(' ')}\` failed (${how})${said === '' ? '' : `: ${said}`}`,
    {
      hint:
        argv[1] === 'build'
          ? 'check the definition file; building without root may need --fakeroot (set APPTAINER_FAKEROOT or build the .sif yourself)'
          : 'check the image reference and that the registry is reachable from here',
    },
  );
}

/** The tool said it succeeded; an image that is not there, or empty, is still a failure. */
async function requireImage(path: string, tool: string): Promise<void> {
  const found = await stat(path).catch(() => undefined);
  if (found?.isDirectory() || (found?.isFile() && found.size > 0)) return;
  throw new RunFailedError(
    `\`${tool}\` exited 0 but wrote ${found === undefined ? 'no image' : 'an empty image'} at ${path}`,
    {
      hint: `run the same \`${tool}\` by hand to see why; check the free space and quota of the cache folder, or set cache_dir elsewhere`,
    },
  );
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Takes the lock on an image file. Another run may be pulling or building
 * the same image: wait for it (the lock goes stale if that run died), but
 * stop waiting as soon as this run is stopped.
 */
async function lockImage(target: string, deps: ImageDeps): Promise<() => Promise<void>> {
  let told = false;
  for (;;) {
    try {
      return await lockfile.lock(target, {
        realpath: false,
        lockfilePath: `${target}.lock`,
        stale: 60_000,
        update: 10_000,
        retries: 0,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      if (!told) deps.status(`waiting for another run that is making ${target}`);
      told = true;
      await sleep(1000, undefined, { signal: deps.signal }).catch(() => undefined);
      if (deps.signal.aborted)
        throw new RunFailedError(`stopped while waiting for another run to make ${target}`);
    }
  }
}
