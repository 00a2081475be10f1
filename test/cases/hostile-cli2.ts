import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { HostileCase, HostileRun } from '../helpers/hostile.js';

/**
 * Template date filters and undefined values, and symlinks in what is
 * checksummed and archived: each mistake is an error naming the file, the
 * line and what is wrong, never a silent empty value or a crash.
 */

const KEEP = ['model.yml', 'template'];

/** A model staged into dir/out/r1 from dir/template, with `files` in the template. */
function lay(dir: string, files: Record<string, string>, config = ''): void {
  const model = `run_id: r1\noutput_dir: ./out\ntemplate: ./template\ncommand: "true"\nperiod: {start: "2024-01-01T00:00:00Z", end: "2024-01-02T00:00:00Z", interval: 6h}\n${config}`;
  writeFileSync(join(dir, 'model.yml'), model);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

const generate = (says: string | RegExp): HostileRun => ({
  args: ['generate', 'model.yml'],
  keep: KEEP,
  says,
});

const templateRows: [name: string, text: string, says: string | RegExp][] = [
  [
    'a template piping an undefined variable through a filter',
    'a\n{{ config.nmae | upper }}',
    'template ww3.nml, line 2, column 18: config.nmae is not defined',
  ],
  [
    'a template with an unknown strftime directive',
    '{{ runtime.period.start | strftime("%Y%m%d%Q") }}',
    /template ww3\.nml, line 1, column 27: filter strftime: unknown directive "%Q"/,
  ],
  [
    'a template formatting a date that does not exist',
    '{{ "2024-02-30" | strftime("%Y") }}',
    /filter strftime: "2024-02-30" is not an ISO-8601 date/,
  ],
  [
    'a template formatting an epoch number as a date',
    '{{ 1700000000 | strftime("%Y") }}',
    /filter strftime: .*the number 1700000000 \(seconds or milliseconds\?/,
  ],
  [
    'a template adding a fraction of an hour',
    '{{ runtime.period.start | add_hours(0.5) }}',
    /filter add_hours: needs a whole number of hours/,
  ],
];

export const hostileCases: HostileCase[] = [
  ...templateRows.map(
    ([name, text, says]): HostileCase => ({
      name,
      setup({ dir }) {
        lay(dir, { 'template/ww3.nml': text });
        return generate(says);
      },
    }),
  ),
];

/** A run whose model leaves `links` (path → target) beside out/result.nc, postprocessed with `postprocessor`. */
function runWithLinks(
  dir: string,
  postprocessor: string,
  links: Record<string, string>,
): HostileRun {
  const made = Object.entries(links)
    .map(([path, target]) => `ln -s '${target}' ${path}`)
    .join(' && ');
  const command = `mkdir -p out && echo result > out/result.nc && ${made}`;
  writeFileSync(
    join(dir, 'model.yml'),
    `run_id: r1\noutput_dir: ./sims\ncommand: ${JSON.stringify(command)}\n`,
  );
  writeFileSync(join(dir, 'p.yml'), postprocessor);
  return {
    args: ['run', 'model.yml', '--postprocessor-config', 'p.yml'],
    exit: [0],
    keep: ['model.yml', 'p.yml'],
    says: /left out \d: (?:out\/same .*, )?out\/up \(symlink to \.\.\/\.\.\/\.\.\/[^,]+, outside the run directory; never followed\)/,
  };
}

hostileCases.push(
  ...['type: archive\ndestination: out.tar.gz\n', 'type: checksum\n'].map(
    (postprocessor): HostileCase => ({
      name: `${postprocessor.split('\n')[0]}: a relative symlink that climbs out of the run`,
      setup: ({ dir, outside }) =>
        runWithLinks(dir, postprocessor, {
          // From sims/r1/out, three levels up is dir; from there, to outside.
          'out/up': `../../../${relative(dir, outside)}`,
          'out/same': 'result.nc',
        }),
    }),
  ),
);
