import { type Command, Option } from 'commander';
import { backendTypes } from '../backends/registry.js';
import type { CliContext } from './program.js';
import { addReportOptions, type ReportFormat } from './validation-report.js';

const backendTypeOption = () =>
  new Option('--backend-type <type>', 'backend type').choices(backendTypes as string[]);

/** `modelrun backends …`: check, list, describe and create backend configs. */
export function addBackendsCommands(program: Command, ctx: CliContext): void {
  const backends = program
    .command('backends')
    .description('check, list, describe and create backend configs');

  addReportOptions(
    backends
      .command('validate')
      .description('validate backend config files (YAML or JSON)')
      .argument('<files...>', 'config files to check')
      .addOption(backendTypeOption()),
  ).action(async (files: string[], opts: { backendType?: string; format: ReportFormat }) => {
    const { runBackendsValidate } = await import('./backends-validate.js');
    ctx.setExitCode(
      await runBackendsValidate({ files, ...opts, env: ctx.env, cwd: ctx.cwd }, ctx.output),
    );
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
    .option('--force', 'overwrite existing files')
    .action(
      async (opts: {
        backendType?: string;
        all?: boolean;
        format: 'json' | 'yaml';
        output?: string;
        force?: boolean;
      }) => {
        const { runBackendsSchema } = await import('./backends-schema.js');
        ctx.setExitCode(
          await runBackendsSchema(
            { ...opts, all: opts.all === true, force: opts.force === true, cwd: ctx.cwd },
            ctx.output,
          ),
        );
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
    .option(
      '--with-examples',
      'also set every field that has a default (examples stay commented out)',
    )
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
}
