import { type Command, Option } from 'commander';
import { FILE_KINDS, type FileKind } from '../load/file-kind.js';
import type { CliContext } from './program.js';
import { addReportOptions, type ReportFormat } from './validation-report.js';

const collect = (value: string, previous: string[]) => [...previous, value];

const postprocessorOption = () =>
  new Option(
    '--postprocessor-config <file>',
    'postprocessor config file, instead of the model file’s list; repeatable',
  )
    .argParser(collect)
    .default([] as string[], 'the model file’s postprocess list');

/** The flags `run` and `pipeline` share, with one meaning in both. */
const addRunFlags = (command: Command) =>
  command
    .option('--dry-run', 'stage the inputs and print exactly what would run, without running it')
    .option('--skip-generate', 'use the staging dir as it is, without staging the inputs again')
    .addOption(postprocessorOption())
    .option('--no-postprocess', 'skip postprocessing')
    .option('--json', 'print the run record as JSON on stdout (the model’s output goes to stderr)');

interface RunFlags {
  backendConfig?: string;
  dryRun?: boolean;
  skipGenerate?: boolean;
  postprocessorConfig: string[];
  postprocess: boolean;
  json?: boolean;
}

/** The run options both commands hand on, from their parsed flags. */
const runOptions = (opts: RunFlags) => ({
  ...(opts.backendConfig === undefined ? {} : { backendConfig: opts.backendConfig }),
  postprocessorConfigs: opts.postprocessorConfig,
  dryRun: opts.dryRun === true,
  skipGenerate: opts.skipGenerate === true,
  postprocess: opts.postprocess,
  json: opts.json === true,
});

/** The commands that work on model files: validate, generate, run, postprocess, pipeline. */
export function addModelCommands(program: Command, ctx: CliContext): void {
  const runContext = () => ({
    env: ctx.env,
    cwd: ctx.cwd,
    interrupts: ctx.interrupts,
    terminal: ctx.terminal,
  });

  addReportOptions(
    program
      .command('validate')
      .description('validate model, pipeline, postprocessor and backend files (YAML or JSON)')
      .argument('<files...>', 'files to check')
      .addOption(
        new Option(
          '--kind <kind>',
          'check every file as this kind (default: told by its content)',
        ).choices(FILE_KINDS as unknown as string[]),
      ),
  ).action(async (files: string[], opts: { kind?: FileKind; format: ReportFormat }) => {
    const { runValidate } = await import('./model-validate.js');
    ctx.setExitCode(
      await runValidate(
        {
          files,
          format: opts.format,
          ...(opts.kind === undefined ? {} : { kind: opts.kind }),
          env: ctx.env,
          cwd: ctx.cwd,
        },
        ctx.output,
      ),
    );
  });

  program
    .command('generate')
    .description(
      "stage a model's inputs (render its template) without running it; prints the staging dir",
    )
    .argument('<model>', 'model file')
    .action(async (modelFile: string) => {
      const { runGenerate } = await import('./generate.js');
      ctx.setExitCode(await runGenerate({ modelFile }, ctx.output, runContext()));
    });

  addRunFlags(
    program
      .command('run')
      .description('stage the inputs, run the model on a backend, then postprocess')
      .argument('<model>', 'model file')
      .option('--backend-config <file>', 'backend config file (default: the local backend)'),
  ).action(async (modelFile: string, opts: RunFlags) => {
    const { runModelCommand } = await import('./run-model.js');
    ctx.setExitCode(
      await runModelCommand({ modelFile, ...runOptions(opts) }, ctx.output, runContext()),
    );
  });

  program
    .command('postprocess')
    .description('run postprocessors on an existing run')
    .argument('<model>', 'model file of the run')
    .addOption(postprocessorOption())
    .option('--json', 'print the run record as JSON on stdout (everything else goes to stderr)')
    .action(async (modelFile: string, opts: { postprocessorConfig: string[]; json?: boolean }) => {
      const { runPostprocessCommand } = await import('./postprocess.js');
      ctx.setExitCode(
        await runPostprocessCommand(
          { modelFile, postprocessorConfigs: opts.postprocessorConfig, json: opts.json === true },
          ctx.output,
          runContext(),
        ),
      );
    });

  addRunFlags(
    program
      .command('pipeline')
      .description('run a model, its backend and its postprocessing from one pipeline file')
      .argument('<pipeline>', 'pipeline file with model:, backend: and postprocess: sections')
      .option('--backend-config <file>', 'backend config file, instead of the backend: section'),
  )
    .option('--cleanup-on-failure', 'remove the staging dir when the run fails (kept by default)')
    .action(async (pipelineFile: string, opts: RunFlags & { cleanupOnFailure?: boolean }) => {
      const { runPipelineCommand } = await import('./pipeline.js');
      const options = {
        pipelineFile,
        ...runOptions(opts),
        cleanupOnFailure: opts.cleanupOnFailure === true,
      };
      ctx.setExitCode(await runPipelineCommand(options, ctx.output, runContext()));
    });
}
