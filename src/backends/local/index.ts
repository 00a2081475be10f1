import { cpus, platform } from 'node:os';
import * as z from 'zod';
import { commonFields, typeField } from '../../config/base.js';
import { commandTooLarge } from '../../config/exec-limits.js';
import { documented, strictObject } from '../../config/fields.js';
import type { PathContext } from '../../config/path-context.js';
import { processGroupUndo } from '../../exec/guard.js';
import { processGroupHandle } from '../../exec/process-handle.js';
import { defineBackend } from '../contract.js';

export function localConfigSchema(ctx: PathContext) {
  return strictObject({
    type: typeField('local', 'Runs the model as a process on this machine.'),
    ...commonFields(ctx),
    command: documented(z.string().min(1, { error: 'command cannot be empty' }), {
      description: "Command to run instead of the model's own `command`.",
      examples: ['python run_model.py --config input.nml'],
    }).optional(),
    shell: documented(z.boolean(), {
      description:
        'Run the command through /bin/sh -c. When false, the command is split into arguments and run without a shell, so pipes, globs and $VARS are not expanded.',
      examples: [false],
    }).default(true),
    capture_output: documented(z.boolean(), {
      description:
        "Keep the model's stdout and stderr in logs/stdout.log and logs/stderr.log of the run.",
      examples: [false],
    }).default(true),
    stream_output: documented(z.boolean(), {
      description: "Echo the model's output live to the terminal.",
      examples: [false],
    }).default(true),
  }).superRefine((config, zctx) => {
    // Split into arguments (shell: false), a long command may still start; only E2BIG tells.
    const problem =
      config.shell && config.command !== undefined ? commandTooLarge(config.command) : undefined;
    if (problem !== undefined)
      zctx.addIssue({ code: 'custom', path: ['command'], input: config.command, message: problem });
  });
}

export type LocalConfig = z.output<ReturnType<typeof localConfigSchema>>;

export const localBackend = defineBackend({
  type: 'local',
  description: 'a process on this machine',
  configSchema: localConfigSchema,
  summaryFields: ['command', 'shell', 'timeout'],
  template: { required: {} },
  warnings(config) {
    return config.capture_output === false && config.stream_output === false
      ? [
          {
            path: ['capture_output'],
            message:
              "capture_output and stream_output are both false, so the model's output is neither kept nor shown",
          },
        ]
      : [];
  },
  async probe() {
    return { available: true, detail: `${platform()}, ${cpus().length} CPUs` };
  },
  async plan(config, job) {
    const { localDryRun } = await import('./runner.js');
    return localDryRun(config, job);
  },
  secretFields: [['env_vars']],
  handle: processGroupHandle,
  undo: [processGroupUndo],
  async createRunner(config, job, deps) {
    const { createLocalRunner } = await import('./runner.js');
    return createLocalRunner(config, job, deps);
  },
});
