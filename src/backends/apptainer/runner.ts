import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import { EngineUnavailableError } from '../../errors.js';
import { stringEnv } from '../../exec/env.js';
import { MARK_VARIABLE } from '../../exec/escaped-processes.js';
import type { ProcessGroupTask } from '../../exec/guard.js';
import { groupAlive, signalGroup } from '../../exec/process-group.js';
import { reportEscaped, runProcess } from '../../exec/process-runner.js';
import type { RunOutput } from '../../exec/run-output.js';
import {
  buildApptainerArgv,
  containerEnv,
  envFilePath,
  envFileText,
} from '../containers/apptainer-exec.js';
import { removeEnvFile, type SecretFileTask, writeEnvFile } from '../containers/env-file.js';
import type { BackendRunner, RunJob, RunnerDeps, RunOutcome } from '../contract.js';
import { LOCAL_GRACE_MS } from '../local/runner.js';
import { toRunOutcome } from '../process-outcome.js';
import type { ApptainerConfig } from './config.js';
import { ensureImage } from './image.js';

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
  const graceMs = deps.graceMs ?? LOCAL_GRACE_MS;
  let image: Promise<string> | undefined;
  let pid: number | undefined;
  let unguardEnvFile = () => {};

  return {
    check: () => checkBinary(config.binary, env),
    start(signal: AbortSignal) {
      image ??= ensureImage(config, { env, status: deps.status, signal });
      return image.then(() => undefined);
    },
    async run(output: RunOutput, signal: AbortSignal): Promise<RunOutcome> {
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
          onStart: (started) => (pid = started),
          guard: deps.guard,
          runId: job.runId,
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
    leftovers() {
      return pid !== undefined && groupAlive(pid)
        ? [`process group ${pid} (${config.binary} exec)`]
        : [];
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

function checkBinary(binary: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['--version'], { env, timeout: 10_000 }, (error) => {
      if (error === null) resolve();
      else {
        reject(
          new EngineUnavailableError(
            `${binary} is not usable here: ${error.message.split('\n')[0]}`,
            {
              hint: `on a cluster, try \`module load ${binary}\`; \`modelrun backends list\` shows what this machine has`,
            },
          ),
        );
      }
    });
  });
}
