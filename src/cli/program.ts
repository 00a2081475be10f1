import { Command, Option } from 'commander';
import { backendTypes } from '../backends/registry.js';
import { VERSION } from '../package-info.js';
import type { Output, TextSink } from './output.js';
import { REPORT_FORMATS, type ReportFormat } from './validation-report.js';

export interface CliContext {
  output: Output;
  stdout: TextSink;
  stderr: TextSink;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Receives each command's exit code. */
  setExitCode(code: number): void;
}

const backendTypeOption = () =>
  new Option('--backend-type <type>', 'backend type').choices(backendTypes as string[]);

/**
 * The command table. Each action parses its options and hands them to a
 * plain `runX(options, output)` function, imported only when that command
 * runs so that start-up stays light.
 */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('modelrun')
    .description(
      'Run a scientific model on a local process, a Docker or Apptainer container, or a Slurm cluster.',
    )
    .version(VERSION, '--version', 'print the version')
    .option('--no-color', 'print without colour (NO_COLOR is honoured too)')
    .option('-v, --verbose', 'print debug output, and stack traces for unexpected errors')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
    })
    .showHelpAfterError('(add --help for usage)');

  const backends = program
    .command('backends')
    .description('check, list, describe and create backend configs');

  backends
    .command('validate')
    .description('validate backend config files (YAML or JSON)')
    .argument('<files...>', 'config files to check')
    .addOption(backendTypeOption())
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(REPORT_FORMATS as string[])
        .default('text'),
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 all valid, 1 any invalid, 2 usage error (such as a missing file).',
    )
    .action(async (files: string[], opts: { backendType?: string; format: ReportFormat }) => {
      const { runBackendsValidate } = await import('./backends-validate.js');
      ctx.setExitCode(await runBackendsValidate({ files, ...opts, env: ctx.env }, ctx.output));
    });

  backends
    .command('list')
    .description('list backend types and whether each can be used on this machine')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { runBackendsList } = await import('./backends-list.js');
      ctx.setExitCode(
        await runBackendsList({ json: opts.json === true, env: ctx.env }, ctx.output),
      );
    });

  backends
    .command('schema')
    .description('emit the JSON Schema (draft 2020-12) of backend configs')
    .addOption(backendTypeOption())
    .option('--all', 'emit every schema, plus backend.schema.json for any type, into --output DIR')
    .addOption(
      new Option('--format <format>', 'output format').choices(['json', 'yaml']).default('json'),
    )
    .option('--output <path>', 'file to write (a folder with --all); stdout if not given')
    .action(
      async (opts: {
        backendType?: string;
        all?: boolean;
        format: 'json' | 'yaml';
        output?: string;
      }) => {
        const { runBackendsSchema } = await import('./backends-schema.js');
        ctx.setExitCode(await runBackendsSchema({ ...opts, all: opts.all === true }, ctx.output));
      },
    );

  backends
    .command('create')
    .description('write a starting config for a backend type that passes validate as written')
    .addOption(backendTypeOption().makeOptionMandatory())
    .option('--output <file>', 'file to write; stdout if not given')
    .addOption(
      new Option('--format <format>', 'yaml, or json (the default for a .json --output)').choices([
        'yaml',
        'json',
      ]),
    )
    .option('--with-examples', 'fill in every field with its default or an example value')
    .option('--force', 'overwrite an existing file')
    .action(
      async (opts: {
        backendType: string;
        output?: string;
        format?: 'yaml' | 'json';
        withExamples?: boolean;
        force?: boolean;
      }) => {
        const { runBackendsCreate } = await import('./backends-create.js');
        ctx.setExitCode(
          await runBackendsCreate(
            {
              ...opts,
              withExamples: opts.withExamples === true,
              force: opts.force === true,
              cwd: ctx.cwd,
            },
            ctx.output,
          ),
        );
      },
    );

  return program;
}
