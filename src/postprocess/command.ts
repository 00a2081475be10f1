import * as z from 'zod';
import { checkCommandSize } from '../config/exec-limits.js';
import { documented, durationSeconds, strictObject, stringMap } from '../config/fields.js';
import type { PathContext } from '../config/path-context.js';
import { stringEnv } from '../exec/env.js';
import { postprocessorFields } from './common.js';
import { definePostprocessor } from './types.js';

export function commandPostprocessorSchema(_ctx: PathContext) {
  return strictObject({
    ...postprocessorFields('command', 'Runs a shell command in the run directory.'),
    command: documented(
      z.string().min(1, { error: 'command cannot be empty' }).superRefine(checkCommandSize),
      {
        description:
          'Shell command run with /bin/sh -c in the run directory, such as a plotting script.',
        examples: ['python plot.py output/timeseries.csv'],
      },
    ),
    timeout: durationSeconds(
      { min: 1, max: 86_400 },
      {
        description:
          'How long the command may run, in seconds or as a duration such as "10m". 1 to 86400 seconds.',
        examples: [600, '10m'],
      },
    ).prefault(600),
    env_vars: stringMap(
      {
        description: 'Environment variables added for the command.',
        examples: [{ PLOT_FORMAT: 'png' }],
      },
      { names: 'env' },
    ),
  });
}

export type CommandPostprocessorConfig = z.output<ReturnType<typeof commandPostprocessorSchema>>;

/** Grace between SIGTERM and SIGKILL when the command overruns its timeout. */
const GRACE_MS = 5000;

export const commandPostprocessor = definePostprocessor({
  type: 'command',
  description: 'runs a shell command in the run directory, with its own timeout',
  configSchema: commandPostprocessorSchema,
  summaryFields: ['command', 'timeout'],
  template: { required: { command: 'ls -l output' } },
  async run(config, context) {
    // The command line, its stderr and start errors may carry a secret; the words around them are ours.
    const redact = context.redact ?? ((text: string) => text);
    const shown = `\`${redact(config.command)}\``;
    const { runProcess } = await import('../exec/process-runner.js');
    const { judge, withEscaped } = await import('./command-verdict.js');
    const { createRunOutput } = await import('../exec/run-output.js');
    const handle = await createRunOutput({
      ...(context.terminal === undefined ? {} : { echo: context.terminal }),
      tailLines: 5,
    });
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), config.timeout * 1000);
    const signal = AbortSignal.any([timeout.signal, context.signal]);
    try {
      const outcome = await runProcess(
        {
          file: '/bin/sh',
          args: ['-c', config.command],
          cwd: context.stagingDir,
          env: { ...stringEnv(context.env), ...config.env_vars },
        },
        handle.output,
        {
          signal,
          graceMs: GRACE_MS,
          guard: context.guard,
          runId: context.runId,
        },
      );
      const tail = handle.stderrTail().at(-1);
      const detail = tail === undefined || tail === '' ? '' : `: ${redact(tail)}`;
      const result = judge(outcome, shown, detail, redact, {
        timedOut: timeout.signal.aborted ? config.timeout : undefined,
        cancelled: context.signal.aborted,
      });
      return withEscaped(result, outcome.escaped, redact);
    } finally {
      clearTimeout(timer);
      await handle.close();
    }
  },
});
