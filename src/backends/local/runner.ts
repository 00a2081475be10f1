import { ConfigError } from '../../errors.js';
import { stringEnv } from '../../exec/env.js';
import type { ProcessGroupTask } from '../../exec/guard.js';
import { signalGroup } from '../../exec/process-group.js';
import { type ProcessSpec, reportEscaped, runProcess } from '../../exec/process-runner.js';
import type { RunOutput } from '../../exec/run-output.js';
import { maskEnv } from '../../secrets.js';
import type {
  BackendRunner,
  DryRun,
  RunHooks,
  RunJob,
  RunnerDeps,
  RunOutcome,
} from '../contract.js';
import { resolveCommand } from '../model-command.js';
import { PROCESS_GRACE_MS } from '../process-grace.js';
import { toRunOutcome } from '../process-outcome.js';
import { splitCommand } from '../split-command.js';
import type { LocalConfig } from './index.js';

/** The argv the model runs with; fails when there is no command to run. */
function localArgv(config: LocalConfig, job: RunJob) {
  const command = resolveCommand(config.command, job, '`command:` in the local backend config');
  const argv = config.shell ? ['/bin/sh', '-c', command] : splitCommand(command);
  const [file = '', ...args] = argv;
  if (file === '') throw new ConfigError('the command is empty', { hint: 'set a command to run' });
  return { command, argv, file, args, cwd: config.working_dir ?? job.stagingDir };
}

export function createLocalRunner(
  config: LocalConfig,
  job: RunJob,
  deps: RunnerDeps<ProcessGroupTask>,
): BackendRunner {
  const graceMs = deps.graceMs ?? PROCESS_GRACE_MS;
  const { file, args, cwd } = localArgv(config, job);
  const spec: ProcessSpec = {
    file,
    args,
    cwd,
    env: { ...stringEnv(deps.env), ...config.env_vars },
  };
  let pid: number | undefined;

  return {
    async check() {},
    async start() {},
    async run(output: RunOutput, signal: AbortSignal, hooks?: RunHooks): Promise<RunOutcome> {
      const outcome = await runProcess(spec, output, {
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
      });
      reportEscaped(outcome, deps.status);
      return toRunOutcome(outcome, file);
    },
    async stop() {
      signalGroup(pid, 'SIGKILL');
    },
  };
}

/** What a local run would run. */
export function localDryRun(config: LocalConfig, job: RunJob): DryRun {
  const { command, argv, cwd } = localArgv(config, job);
  const env = maskEnv(config.env_vars ?? {});
  const shown = config.shell ? `/bin/sh -c ${JSON.stringify(command)}` : JSON.stringify(argv);
  return {
    lines: [
      [config.shell ? 'shell command' : 'argv', shown],
      ['working dir', cwd],
      ['environment', `the host environment${Object.keys(env).length > 0 ? ', plus:' : ''}`],
      ...Object.entries(env).map(([name, value]): [string, string] => [`  ${name}`, value]),
      ['timeout', `${config.timeout} s`],
    ],
    data: {
      backend: 'local',
      argv,
      shell: config.shell,
      working_dir: cwd,
      env,
      inherits_host_env: true,
      timeout_s: config.timeout,
    },
  };
}
