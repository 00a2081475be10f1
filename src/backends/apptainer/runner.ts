import { basename } from 'node:path';
import { stringEnv } from '../../exec/env.js';
import { MARK_VARIABLE } from '../../exec/escaped-processes.js';
import type { ProcessGroupTask } from '../../exec/guard.js';
import { signalGroup } from '../../exec/process-group.js';
import { reportEscaped, runProcess } from '../../exec/process-runner.js';
import type { RunOutput } from '../../exec/run-output.js';
import { containerEnv, envFilePath, envFileText } from '../containers/apptainer-env.js';
import { buildApptainerArgv } from '../containers/apptainer-exec.js';
import { ensureImage } from '../containers/apptainer-image.js';
import { removeEnvFile, type SecretFileTask, writeEnvFile } from '../containers/env-file.js';
import {
  type BackendRunner,
  type RunHooks,
  type RunJob,
  type RunnerDeps,
  type RunOutcome,
  requireAvailable,
} from '../contract.js';
import { PROCESS_GRACE_MS } from '../process-grace.js';
import { toRunOutcome } from '../process-outcome.js';
import type { ApptainerConfig } from './config.js';
import { probeApptainer } from './probe.js';

/**
 * One run in an Apptainer container, through the same process runner as
 * the local backend: the whole process group is stopped on timeout or
 * interrupt, output streams live, and exit codes come through.
 */
export function createApptainerRunner(
  config: ApptainerConfig,
  job: RunJob,
  deps: RunnerDeps<ProcessGroupTask | SecretFileTask>,
): BackendRunner {
  const env = stringEnv(deps.env);
  const graceMs = deps.graceMs ?? PROCESS_GRACE_MS;
  let image: Promise<string> | undefined;
  let pid: number | undefined;
  let unguardEnvFile = () => {};

  return {
    // The probe `backends list` shows, for the binary this config uses.
    check: async () => requireAvailable(await probeApptainer({ env, timeoutMs: 10_000, config })),
    start(signal: AbortSignal) {
      image ??= ensureImage(config, { env, status: deps.status, signal });
      return image.then(() => undefined);
    },
    async run(output: RunOutput, signal: AbortSignal, hooks?: RunHooks): Promise<RunOutcome> {
      const resolved = await (image ?? Promise.reject(new Error('start() must come before run()')));
      unguardEnvFile = await writeEnvFile(
        envFilePath(job.stagingDir),
        envFileText(containerEnv(config)),
        deps.guard,
      );
      const [file = '', ...args] = buildApptainerArgv(config, job, resolved);
      const outcome = await runProcess(
        { file, args, cwd: config.working_dir ?? job.stagingDir, env },
        output,
        {
          signal,
          graceMs,
          onStart: (started, group) => {
            pid = started;
            hooks?.submitted({ ...group });
          },
          guard: deps.guard,
          launcher: deps.launcher,
          runId: job.runId,
          runDir: job.stagingDir,
          markVariables: [containerVariable(config.binary, MARK_VARIABLE)],
        },
      );
      reportEscaped(outcome, deps.status);
      return toRunOutcome(outcome, file);
    },
    async stop() {
      signalGroup(pid, 'SIGKILL');
      await removeEnvFile(envFilePath(job.stagingDir));
      unguardEnvFile();
    },
  };
}

/**
 * The name under which a variable reaches the container even with
 * --cleanenv: APPTAINERENV_X, or SINGULARITYENV_X for SingularityCE
 * (Apptainer warns about the latter, so each gets its own).
 */
export function containerVariable(binary: string, name: string): string {
  return `${basename(binary).startsWith('singularity') ? 'SINGULARITY' : 'APPTAINER'}ENV_${name}`;
}
