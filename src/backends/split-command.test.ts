import { describe, expect, it } from 'vitest';
import { splitCommand } from './split-command.js';

describe('splitCommand', () => {
  it.each([
    ['python run.py --config input.nml', ['python', 'run.py', '--config', 'input.nml']],
    ['python run.py --name "my run"', ['python', 'run.py', '--name', 'my run']],
    ["echo 'single quoted' plain", ['echo', 'single quoted', 'plain']],
    ['echo a\\ b', ['echo', 'a b']],
    ['echo $HOME ${USER}', ['echo', '$HOME', '$USER']],
    ['ls *.nc', ['ls', '*.nc']],
    ['run.sh # trailing comment', ['run.sh']],
  ])('%s', (command, argv) => {
    expect(splitCommand(command)).toEqual(argv);
  });

  it.each(['a | b', 'a && b', 'a > out.txt', 'a; b'])(
    'refuses the shell operator in %s',
    (command) => {
      expect(() => splitCommand(command)).toThrow(/uses the shell operator .* but shell is false/);
    },
  );
});
