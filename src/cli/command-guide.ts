import type { Command } from 'commander';
import { commandsOf } from './command-tree.js';

/**
 * What each command's --help ends with: one or two examples and what its
 * exit codes mean. One row per command, keyed by the words that name it; a
 * test checks that every command in the tree has its row.
 */
interface Guide {
  examples: string[];
  /** What exit code 1 means for this command; undefined when it never exits 1. */
  failed?: string;
}

const RUN_FAILED = 'the model or a postprocessor failed or timed out, or an engine cannot be used';

export const COMMAND_GUIDES: Record<string, Guide> = {
  '': {
    examples: ['modelrun run examples/wave/model.yml', 'modelrun help run'],
    failed: 'a run failed, or a file is invalid (see each command’s help)',
  },
  init: {
    examples: [
      'modelrun init my-model && cd my-model && modelrun run model.yml',
      'npx modelrun init            # into the current folder',
    ],
  },
  validate: {
    examples: [
      'modelrun validate examples/wave/model.yml examples/wave/pipeline.yml',
      'modelrun validate --kind postprocessor --format github post.yml',
    ],
    failed: 'a file is invalid',
  },
  generate: {
    examples: ['modelrun generate examples/wave/model.yml'],
    failed: 'the template could not be staged',
  },
  run: {
    examples: [
      'modelrun run examples/wave/model.yml',
      'modelrun run model.yml --backend-config docker.yml --detach',
      'modelrun run model.yml --backend-config slurm.yml --json > run.json',
    ],
    failed: RUN_FAILED,
  },
  postprocess: {
    examples: [
      'modelrun postprocess examples/wave/model.yml',
      'modelrun postprocess model.yml --postprocessor-config archive.yml --json',
    ],
    failed: 'a postprocessor failed or timed out',
  },
  pipeline: {
    examples: [
      'modelrun pipeline examples/wave/pipeline.yml',
      'modelrun pipeline pipeline.yml --backend-config slurm.yml --dry-run',
    ],
    failed: RUN_FAILED,
  },
  ensemble: {
    examples: [
      'modelrun ensemble examples/wave/ensemble.yml',
      'modelrun ensemble ensemble.yml --backend-config docker.yml --max-parallel 8 --resume',
    ],
    failed: 'a member or the aggregate step failed, or an engine cannot be used',
  },
  status: {
    examples: [
      'modelrun status examples/wave/model.yml',
      'modelrun status simulations/wave-2024-01 --json',
    ],
    failed: 'the run failed, timed out or was cancelled',
  },
  logs: {
    examples: ['modelrun logs wave-2024-01 --tail 20', 'modelrun logs model.yml -f --stderr'],
    failed: 'the run kept no logs (capture_output: false)',
  },
  wait: {
    examples: ['modelrun wait simulations/wave-2024-01', 'modelrun wait model.yml && echo done'],
    failed: 'the run failed, timed out or was cancelled',
  },
  cancel: {
    examples: ['modelrun cancel examples/wave/model.yml', 'modelrun cancel wave-2024-01'],
    failed: 'the run could not be stopped (its engine did not answer)',
  },
  runs: {
    examples: ['modelrun runs', 'modelrun runs simulations archive --status failed --json'],
  },
  backends: {
    examples: ['modelrun backends list', 'modelrun backends validate configs/*.yml'],
    failed: 'a config is invalid (validate)',
  },
  'backends validate': {
    examples: [
      'modelrun backends validate examples/backends/docker.yml',
      'modelrun backends validate --format github configs/*.yml',
    ],
    failed: 'a config is invalid',
  },
  'backends list': {
    examples: ['modelrun backends list', 'modelrun backends list --json'],
  },
  'backends schema': {
    examples: [
      'modelrun backends schema --backend-type docker',
      'modelrun backends schema --all --output schemas',
    ],
  },
  'backends create': {
    examples: [
      'modelrun backends create --backend-type slurm --output slurm.yml',
      'modelrun backends create --backend-type docker --with-examples',
    ],
  },
  completion: {
    examples: [
      'modelrun completion bash > ~/.local/share/bash-completion/completions/modelrun',
      'modelrun completion fish > ~/.config/fish/completions/modelrun.fish',
    ],
  },
  help: {
    examples: ['modelrun help run', 'modelrun help backends validate'],
  },
};

/** The "Examples:" and "Exit codes:" text that ends a command's help. */
export function guideText(guide: Guide): string {
  const codes: [string, string][] = [
    ['0', 'success'],
    ...(guide.failed === undefined ? [] : [['1', guide.failed] as [string, string]]),
    ['2', 'usage or config error: a missing file, an unknown option, an invalid config'],
    ['70', 'a bug in modelrun: rerun with --verbose and report it'],
    // Any command, not only a run: a signal ends modelrun as the shell would report it.
    ['128+n', 'stopped by signal n: 129 SIGHUP, 130 SIGINT (Ctrl-C), 143 SIGTERM'],
  ];
  return [
    '',
    'Examples:',
    ...guide.examples.map((example) => `  $ ${example}`),
    '',
    'Exit codes:',
    ...codes.map(([code, meaning]) => `  ${code.padEnd(7)}${meaning}`),
  ].join('\n');
}

/** Adds its guide to the help of every command in the tree that has one. */
export function addGuides(program: Command): void {
  for (const { path, command } of commandsOf(program)) {
    const guide = COMMAND_GUIDES[path.join(' ')];
    if (guide !== undefined) command.addHelpText('after', guideText(guide));
  }
}
