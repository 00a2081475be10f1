import { describe, expect, it } from 'vitest';
import { fakeContext } from '../../test/helpers/command-context.js';
import { COMMAND_NAMES } from './command-names.js';
import { buildProgram } from './program.js';

describe('the command names the code cache goes by', () => {
  it('are the top-level commands of the command table, no more and no fewer', () => {
    const { ctx } = fakeContext(process.cwd());
    const sink = { write: () => true };
    const program = buildProgram({ ...ctx, stdout: sink, stderr: sink, setExitCode: () => {} });
    expect([...COMMAND_NAMES].sort()).toEqual(program.commands.map((c) => c.name()).sort());
  });
});
