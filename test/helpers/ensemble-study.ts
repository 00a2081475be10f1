/**
 * The ensemble the engine tests run: a model of two values, which its
 * template writes into values.txt; a 2×3 product of them plus 2 listed
 * members; an aggregate step that keeps the ensemble.json it saw.
 */

/** The model (model.yml, its template) running `command`, and slow.yml, a model that sleeps. */
export function studyTree(command: string): Record<string, string> {
  return {
    'model.yml': [
      'run_id: base',
      'template: ./template',
      'config:',
      '  depth: 1',
      '  width: 1',
      `command: ${JSON.stringify(command)}`,
      '',
    ].join('\n'),
    'template/values.txt': 'depth={{ config.depth }},width={{ config.width }}\n',
    'slow.yml': 'run_id: slow\ncommand: "echo started; sleep 300"\n',
  };
}

/** The ensemble file: `backend` (YAML lines), run ids `<prefix>d<depth>-w<width>`, `maxParallel` at once. */
export function studyEnsemble(
  id: string,
  backend: string,
  maxParallel: number,
  runIdPrefix = '',
): string {
  return [
    'model: model.yml',
    `ensemble_id: ${id}`,
    backend,
    `run_id: ${runIdPrefix}d{{ member.depth }}-w{{ member.width }}`,
    'parameters:',
    '  config.depth: [5, 10]',
    '  config.width: [1, 2, 3]',
    'members:',
    '  - {config.depth: 50, config.width: 7}',
    '  - {config.depth: 60, config.width: 8}',
    `max_parallel: ${maxParallel}`,
    'aggregate:',
    '  - type: command',
    '    command: "cp ensemble.json seen.json"',
    '',
  ].join('\n');
}
