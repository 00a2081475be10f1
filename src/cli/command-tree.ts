import { Command, type Option } from 'commander';

/**
 * Two hooks commander has and calls, but leaves out of its typings; declared
 * here so that modelrun's command can override them and call commander's own.
 */
declare module 'commander' {
  interface Command {
    /** Called for a mandatory option not given, before unknown options are checked. */
    missingMandatoryOptionValue(option: Option): void;
    /** Called for an unknown option. */
    unknownOption(flag: string): void;
  }
}

/**
 * modelrun's commands: commander's, with a suggestion for an unknown option
 * that is the start of a real one (`--backend` → `--backend-config`), which
 * commander's edit-distance rule misses. Subcommands are made the same way.
 */
export class ModelrunCommand extends Command {
  override createCommand(name?: string): ModelrunCommand {
    return new ModelrunCommand(name);
  }

  /**
   * commander checks a mandatory option not given before unknown options;
   * but `--backend slurm` is the mandatory `--backend-type` misspelt, and
   * saying so helps more.
   */
  override missingMandatoryOptionValue(option: Option): void {
    const known = longOptionsInReach(this);
    const unknown = this.args.find(
      (arg) => arg.startsWith('--') && arg !== '--' && !known.includes(arg.split('=')[0] ?? arg),
    );
    if (unknown !== undefined) this.unknownOption(unknown);
    super.missingMandatoryOptionValue(option);
  }

  override unknownOption(flag: string): void {
    const name = flag.split('=')[0] ?? flag;
    const prefixed = name.startsWith('--')
      ? longOptionsInReach(this).filter((long) => long.startsWith(`${name}-`))
      : [];
    if (prefixed.length === 1)
      this.error(`error: unknown option '${flag}'\n(Did you mean ${prefixed[0]}?)`, {
        code: 'commander.unknownOption',
      });
    super.unknownOption(flag);
  }
}

/** The long options a command accepts: its own and those of the commands above it. */
function longOptionsInReach(command: Command): string[] {
  const longs: string[] = [];
  for (let at: Command | null = command; at !== null; at = at.parent)
    longs.push(...at.options.flatMap((option: Option) => option.long ?? []));
  return longs;
}

export interface CommandEntry {
  /** The words that name it after `modelrun`: ['backends', 'validate']; [] for modelrun itself. */
  path: string[];
  command: Command;
}

/** Every command in the tree, modelrun itself first, parents before their subcommands. */
export function commandsOf(program: Command, path: string[] = []): CommandEntry[] {
  return [
    { path, command: program },
    ...program.commands.flatMap((sub) => commandsOf(sub, [...path, sub.name()])),
  ];
}

/**
 * The command the words name, or the first word that names none, where it
 * was looked for, and the words that name that place.
 */
export function findCommand(
  program: Command,
  words: string[],
): { command: Command } | { unknown: string; within: Command; before: string[] } {
  let command = program;
  for (const [index, word] of words.entries()) {
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub === undefined) return { unknown: word, within: command, before: words.slice(0, index) };
    command = sub;
  }
  return { command };
}
