import * as z from 'zod';
import { documented, parseDuration, strictObject } from '../config/fields.js';

/** A duration such as "15m" or "1h30m", with at least one non-zero digit. */
const INTERVAL_PATTERN = /^(?=\d)(?=.*[1-9])(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?$/;

/** A period is cut into at most this many steps, so a typo cannot exhaust memory. */
export const MAX_PERIOD_STEPS = 1_000_000;

const dateTime = (description: string, example: string) =>
  documented(
    z.iso.datetime({
      offset: true,
      local: true,
      error: (issue) =>
        issue.input === undefined
          ? 'is required: an ISO-8601 date-time such as "2024-01-01T00:00:00Z"'
          : `must be an ISO-8601 date-time such as "2024-01-01T00:00:00Z"; got ${JSON.stringify(issue.input)}`,
    }),
    { description, examples: [example] },
  );

export const periodSchema = documented(
  strictObject({
    start: dateTime(
      'First time of the period, ISO-8601. Times without an offset are UTC.',
      '2024-01-01T00:00:00Z',
    ),
    end: dateTime(
      'Last time of the period, ISO-8601; must come after start.',
      '2024-01-02T00:00:00Z',
    ),
    interval: documented(
      z.string().regex(INTERVAL_PATTERN, {
        error: (issue) =>
          /^(?:0+[dhms])+$/.test(String(issue.input))
            ? 'must be longer than zero'
            : `must be a duration such as "1h", "15m" or "1h30m"; got ${JSON.stringify(issue.input)}`,
      }),
      { description: 'Time between steps, such as "1h" or "15m".', examples: ['1h'] },
    ),
  }),
  {
    description:
      'The simulated period. Templates see it as runtime.period, with its list of time steps in runtime.period.steps.',
    examples: [{ start: '2024-01-01T00:00:00Z', end: '2024-01-02T00:00:00Z', interval: '1h' }],
  },
).transform((period, zctx) => {
  const start = toDate(period.start);
  const end = toDate(period.end);
  const intervalSeconds = parseDuration(period.interval) ?? 0;
  const fail = (path: string, message: string) =>
    zctx.issues.push({ code: 'custom', path: [path], message, input: period });
  if (end.getTime() <= start.getTime()) fail('end', `must come after start (${period.start})`);
  const count =
    intervalSeconds > 0
      ? Math.floor((end.getTime() - start.getTime()) / (intervalSeconds * 1000)) + 1
      : 0;
  if (count > MAX_PERIOD_STEPS) {
    fail(
      'interval',
      `cuts the period into ${count} steps; at most ${MAX_PERIOD_STEPS} are allowed`,
    );
  }
  return {
    start: start.toISOString(),
    end: end.toISOString(),
    interval: period.interval,
    intervalSeconds,
  };
});

export type Period = z.output<typeof periodSchema>;

/** Times without an offset are read as UTC, so a run means the same on every machine. */
function toDate(text: string): Date {
  return new Date(/(?:Z|[+-]\d{2}:?\d{2})$/i.test(text) ? text : `${text}Z`);
}

/** The period's time steps, from start to end inclusive, as ISO-8601 strings. */
export function periodSteps(period: Period): string[] {
  const steps: string[] = [];
  const end = Date.parse(period.end);
  for (let t = Date.parse(period.start); t <= end; t += period.intervalSeconds * 1000) {
    steps.push(new Date(t).toISOString());
  }
  return steps;
}
