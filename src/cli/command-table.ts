import type { Command } from 'commander';
import {
  backendsCreateSpec,
  backendsListSpec,
  backendsSchemaSpec,
  backendsValidateSpec,
  cancelSpec,
  completionSpec,
  ensembleSpec,
  generateSpec,
  initSpec,
  logsSpec,
  pipelineSpec,
  postprocessSpec,
  runSpec,
  runsSpec,
  statusSpec,
  validateSpec,
  waitSpec,
} from './command-options.js';
import type { CommandContext } from './context.js';
import type { CommandSpec, InputOf } from './option-table.js';

/**
 * modelrun's commands as a table: each row a name, a description, the spec
 * of its arguments and options (command-options.ts), and the plain function
 * that runs it, imported only when that command runs so that start-up stays
 * light. The order of the rows is the order `--help` lists them in.
 */

/** A row of the table, made into commander's command under its parent. */
export interface CommandRow {
  attach(parent: Command, ctx: TableContext): void;
}

/** What the table's actions need from the CLI besides each command's own context. */
export interface TableContext extends CommandContext {
  /** Receives each command's exit code. */
  setExitCode(code: number): void;
}

type Run<S extends CommandSpec> = (
  input: InputOf<S>,
  ctx: CommandContext,
  program: Command,
) => Promise<number>;

/** A command with its spec and its run function. */
export function command<S extends CommandSpec>(
  name: string,
  description: string,
  spec: S,
  run: Run<S>,
): CommandRow {
  return {
    attach(parent, ctx) {
      const made = parent.command(name).description(description);
      for (const def of Object.values(spec.args)) made.addArgument(def.make());
      const options = Object.entries(spec.options).map(([key, def]) => {
        const option = def.make();
        made.addOption(option);
        return { key, def, option };
      });
      const late = options.flatMap(({ def, option }) => {
        const choices = def.lateChoices;
        return choices === undefined ? [] : [async () => void option.choices(await choices())];
      });
      if (late.length > 0) lateSetup.set(made, late);
      made.action(async () => {
        const parsed = made.opts();
        const input: Record<string, unknown> = {};
        for (const [index, [key, def]] of Object.entries(spec.args).entries())
          input[key] = def.read(made.processedArgs[index]);
        for (const { key, def, option } of options) {
          const read = def.read(parsed[option.attributeName()]);
          if (read !== undefined) input[key] = read;
        }
        // Read through each definition above, so the keys and types are the spec's.
        ctx.setExitCode(await run(input as InputOf<S>, ctx, rootOf(made)));
      });
    },
  };
}

/** A command that only groups subcommands. */
export function group(name: string, description: string, rows: CommandRow[]): CommandRow {
  return {
    attach(parent, ctx) {
      const made = parent.command(name).description(description);
      for (const row of rows) row.attach(made, ctx);
    },
  };
}

/** Commands whose choices are set when they are reached, and how to set them. */
const lateSetup = new WeakMap<Command, (() => Promise<void>)[]>();

/** Sets the choices of a command's options that come from a module loaded on demand. */
export async function prepareCommand(command: Command): Promise<void> {
  const steps = lateSetup.get(command) ?? [];
  lateSetup.delete(command);
  for (const step of steps) await step();
}

/** The same for every command in the tree (completion scripts list every choice). */
export async function prepareTree(command: Command): Promise<void> {
  await prepareCommand(command);
  for (const sub of command.commands) await prepareTree(sub);
}

/** Adds the table's commands to the program; each is prepared as commander dispatches to it. */
export function addCommandTable(program: Command, rows: CommandRow[], ctx: TableContext): void {
  for (const row of rows) row.attach(program, ctx);
  const hook = (parent: Command) => {
    if (parent.commands.length === 0) return;
    parent.hook('preSubcommand', (_parent, sub) => prepareCommand(sub));
    for (const sub of parent.commands) hook(sub);
  };
  hook(program);
}

function rootOf(command: Command): Command {
  let at = command;
  while (at.parent !== null) at = at.parent;
  return at;
}

export const COMMAND_TABLE: CommandRow[] = [
  command(
    'init',
    'write a starter project to run and make your own; never overwrites a file',
    initSpec,
    async (input, ctx) => (await import('./init.js')).runInit(input, ctx),
  ),
  command(
    'validate',
    'validate model, pipeline, postprocessor and backend files (YAML or JSON)',
    validateSpec,
    async (input, ctx) => (await import('./model-validate.js')).runValidate(input, ctx),
  ),
  command(
    'generate',
    "stage a model's inputs (render its template) without running it; prints the staging dir",
    generateSpec,
    async (input, ctx) => (await import('./generate.js')).runGenerate(input, ctx),
  ),
  command(
    'run',
    'stage the inputs, run the model on a backend, then postprocess',
    runSpec,
    async (input, ctx) => (await import('./run-model.js')).runModelCommand(input, ctx),
  ),
  command(
    'postprocess',
    'run postprocessors on an existing run',
    postprocessSpec,
    async (input, ctx) => (await import('./postprocess.js')).runPostprocessCommand(input, ctx),
  ),
  command(
    'pipeline',
    'run a model, its backend and its postprocessing from one pipeline file',
    pipelineSpec,
    async (input, ctx) => (await import('./pipeline.js')).runPipelineCommand(input, ctx),
  ),
  command(
    'ensemble',
    'run a model as many members, one per set of values, on any backend; then aggregate',
    ensembleSpec,
    async (input, ctx) => (await import('./ensemble.js')).runEnsembleCommand(input, ctx),
  ),
  command(
    'status',
    'show a run’s record and what its engine says of it now',
    statusSpec,
    async (input, ctx) => (await import('./run-status.js')).runStatus(input, ctx),
  ),
  command('logs', 'print or follow the output of a run', logsSpec, async (input, ctx) =>
    (await import('./run-logs.js')).runLogs(input, ctx),
  ),
  command(
    'wait',
    'follow a run from now on, wait for its end and exit with its outcome',
    waitSpec,
    async (input, ctx) => (await import('./run-wait.js')).runWait(input, ctx),
  ),
  command('cancel', 'stop a run, wherever it was started from', cancelSpec, async (input, ctx) =>
    (await import('./run-cancel.js')).runCancel(input, ctx),
  ),
  command('runs', 'list the runs in folders, newest first', runsSpec, async (input, ctx) =>
    (await import('./runs-list.js')).runRunsList(input, ctx),
  ),
  group('backends', 'check, list, describe and create backend configs', [
    command(
      'validate',
      'validate backend config files (YAML or JSON)',
      backendsValidateSpec,
      async (input, ctx) =>
        (await import('./backends-validate.js')).runBackendsValidate(input, ctx),
    ),
    command(
      'list',
      'list backend types and whether each can be used on this machine',
      backendsListSpec,
      async (input, ctx) => (await import('./backends-list.js')).runBackendsList(input, ctx),
    ),
    command(
      'schema',
      'emit the JSON Schema (draft 2020-12) of backend configs',
      backendsSchemaSpec,
      async (input, ctx) => (await import('./backends-schema.js')).runBackendsSchema(input, ctx),
    ),
    command(
      'create',
      'write a starting config for a backend type that passes validate as written',
      backendsCreateSpec,
      async (input, ctx) => (await import('./backends-create.js')).runBackendsCreate(input, ctx),
    ),
  ]),
  command(
    'completion',
    'print a shell completion script for bash, zsh or fish',
    completionSpec,
    async (input, ctx, program) =>
      (await import('./completion.js')).runCompletion(input, ctx, program),
  ),
];
