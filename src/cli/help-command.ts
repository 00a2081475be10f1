import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { prepareCommand } from './command-table.js';
import { commandsOf, findCommand } from './command-tree.js';

/**
 * `modelrun help [command...]`: the same help as `--help`, on stdout, exit 0.
 * It replaces commander's own help command, which exits 2 after printing
 * and says nothing for a command that does not exist.
 */
export function addHelpCommand(program: Command): void {
  for (const { command } of commandsOf(program)) command.helpCommand(false);
  program
    .command('help')
    .description('print the help of modelrun or of a command, like --help')
    .argument('[command...]', 'the command, such as `run` or `backends validate`')
    .action(async (words: string[]) => {
      const found = findCommand(program, words);
      if ('command' in found) {
        await prepareCommand(found.command);
        found.command.outputHelp();
        return;
      }
      const { before } = found;
      const where = ['modelrun', ...before].join(' ');
      const names = found.within.commands.map((c) => c.name());
      if (names.length === 0)
        throw new UsageError(`${where} has no subcommands, so there is no '${found.unknown}'`, {
          hint: `for its help: \`modelrun help ${before.join(' ')}\``,
        });
      // Loaded only for a word that names no command.
      const { closestMatch } = await import('../config/did-you-mean.js');
      const match = closestMatch(found.unknown, names);
      throw new UsageError(`${where} has no command '${found.unknown}'`, {
        hint:
          match === undefined
            ? `its commands are ${names.join(', ')}`
            : `did you mean \`modelrun help ${[...before, match].join(' ')}\`?`,
      });
    });
}
