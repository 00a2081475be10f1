import type { Command, Option } from 'commander';
import { commandsOf } from './command-tree.js';

/**
 * What a shell needs to complete one command, read from commander's tree so
 * the completion scripts can never drift from the commands.
 */
export interface CompletionSpec {
  /** '' for modelrun itself, '/backends/validate' for `modelrun backends validate`. */
  path: string;
  subcommands: { name: string; description: string }[];
  options: OptionSpec[];
  /** What its positional arguments are: files, one of a few words, or none. */
  operands: { files: true } | { words: string[] } | undefined;
}

export interface OptionSpec {
  flags: string[];
  description: string;
  /** Undefined for a flag; files, or one of a few words, for an option that takes a value. */
  value: { files: true } | { words: string[] } | undefined;
}

/** One spec per command of the tree, modelrun itself first, then `help`'s nested words. */
export function completionSpecs(program: Command): CompletionSpec[] {
  const topLevel = program.commands.map((c) => c.name());
  const specs = commandsOf(program).map(({ path, command }) => ({
    path: path.map((word) => `/${word}`).join(''),
    subcommands: command.commands.map((c) => ({ name: c.name(), description: c.description() })),
    options: optionsOf(command),
    operands:
      command.registeredArguments.length === 0
        ? undefined
        : path.join(' ') === 'help'
          ? { words: topLevel }
          : valueKind(command.registeredArguments[0]?.argChoices),
  }));
  return [...specs, ...helpSpecs(program, specs)];
}

/**
 * `modelrun help backends <TAB>` offers backends' subcommands: each command
 * that has some gets a spec under /help, with help's options.
 */
function helpSpecs(program: Command, specs: CompletionSpec[]): CompletionSpec[] {
  const help = specs.find((spec) => spec.path === '/help');
  if (help === undefined) return [];
  return commandsOf(program)
    .filter(({ path, command }) => path.length > 0 && command.commands.length > 0)
    .map(({ path, command }) => ({
      path: `/help${path.map((word) => `/${word}`).join('')}`,
      subcommands: [],
      options: help.options,
      operands: { words: command.commands.map((c) => c.name()) },
    }));
}

/** A command's own options, then those of the commands above it (--no-color, --verbose). */
function optionsOf(command: Command): OptionSpec[] {
  const specs: OptionSpec[] = [];
  for (let at: Command | null = command; at !== null; at = at.parent) {
    const own = at === command;
    for (const option of at.createHelp().visibleOptions(at)) {
      // --help and --version belong to the command they are given to.
      if (!own && (option.long === '--help' || option.long === '--version')) continue;
      specs.push(optionSpec(option));
    }
  }
  return specs;
}

function optionSpec(option: Option): OptionSpec {
  return {
    flags: [option.short, option.long].filter((f): f is string => f !== undefined),
    description: option.description,
    value: option.required || option.optional ? valueKind(option.argChoices) : undefined,
  };
}

/** A value without a fixed list of choices is a file (or folder) name. */
function valueKind(choices: string[] | undefined): { files: true } | { words: string[] } {
  return choices === undefined ? { files: true } : { words: choices };
}
