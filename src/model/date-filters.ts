/**
 * Date filters for templates: `strftime` formats a date, `add_days`,
 * `add_hours`, `add_minutes` and `add_seconds` shift one. Always in UTC, so
 * a template renders the same on every machine, whatever its TZ. Wave models
 * (WW3, SWAN) want dates such as `20240101 000000`.
 */

/** What a filter throws for a value or an argument it cannot take; shown with the template's line. */
export class FilterError extends Error {
  constructor(filter: string, problem: string) {
    super(`filter ${filter}: ${problem}`);
  }
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const pad = (value: number, width = 2, fill = '0') => String(value).padStart(width, fill);

/** Each directive, from a date in UTC. */
const DIRECTIVES: Record<string, (date: Date) => string> = {
  Y: (d) => pad(d.getUTCFullYear(), 4),
  y: (d) => pad(d.getUTCFullYear() % 100),
  m: (d) => pad(d.getUTCMonth() + 1),
  d: (d) => pad(d.getUTCDate()),
  e: (d) => pad(d.getUTCDate(), 2, ' '),
  H: (d) => pad(d.getUTCHours()),
  M: (d) => pad(d.getUTCMinutes()),
  S: (d) => pad(d.getUTCSeconds()),
  j: (d) => pad(dayOfYear(d), 3),
  b: (d) => (MONTHS[d.getUTCMonth()] ?? '').slice(0, 3),
  B: (d) => MONTHS[d.getUTCMonth()] ?? '',
  a: (d) => (DAYS[d.getUTCDay()] ?? '').slice(0, 3),
  A: (d) => DAYS[d.getUTCDay()] ?? '',
  '%': () => '%',
};

export const STRFTIME_DIRECTIVES = Object.keys(DIRECTIVES).map((key) => `%${key}`);

function dayOfYear(date: Date): number {
  const start = Date.UTC(date.getUTCFullYear(), 0, 1);
  const today = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  return (today - start) / 86_400_000 + 1;
}

/** `{{ runtime.period.start | strftime("%Y%m%d %H%M%S") }}` → `20240101 000000`. */
export function strftime(value: unknown, format: unknown): string {
  if (typeof format !== 'string')
    throw new FilterError('strftime', 'needs a format such as strftime("%Y%m%d %H%M%S")');
  const date = toDate('strftime', value);
  return format.replace(/%(.?)/gs, (whole, key: string) => {
    const directive = DIRECTIVES[key];
    if (directive === undefined)
      throw new FilterError(
        'strftime',
        key === ''
          ? 'the format ends with a lone "%"; write "%%" for a percent sign'
          : `unknown directive "${whole}" in ${JSON.stringify(format)}; known: ${STRFTIME_DIRECTIVES.join(' ')}`,
      );
    return directive(date);
  });
}

const UNIT_MS = { days: 86_400_000, hours: 3_600_000, minutes: 60_000, seconds: 1000 } as const;

/**
 * `add_hours(6)` and the like: the date moved by a whole number of units,
 * as an ISO-8601 string in UTC (as runtime.period gives them), to print or
 * to format with strftime. A day is exactly 24 hours: UTC has no daylight
 * saving, so the arithmetic is exact.
 */
export function addTime(unit: keyof typeof UNIT_MS): (value: unknown, amount: unknown) => string {
  const name = `add_${unit}`;
  return (value, amount) => {
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount))
      throw new FilterError(
        name,
        `needs a whole number of ${unit}, such as ${name}(6); got ${describeAmount(amount)}`,
      );
    const moved = new Date(toDate(name, value).getTime() + amount * UNIT_MS[unit]);
    if (!inYears(moved))
      throw new FilterError(
        name,
        `${name}(${amount}) moves the date out of the years 0000 to 9999, the dates an ISO-8601 string such as "2024-01-01T00:00:00Z" can hold; check the amount`,
      );
    return moved.toISOString();
  };
}

/** What an add filter got in place of a whole number. */
function describeAmount(amount: unknown): string {
  // Nunjucks reads 1e10 as no value at all.
  if (amount === undefined)
    return 'no value (a variable that is not defined, or a number in exponent notation such as 1e10, which templates cannot read: write its digits)';
  if (typeof amount === 'number' && Number.isInteger(amount))
    return `${amount}, too large to count exactly; no date is that far away`;
  return JSON.stringify(amount) ?? String(amount);
}

/** Years 0000 to 9999: what toISOString writes as four digits, and strftime's %Y reads back. */
function inYears(date: Date): boolean {
  const year = date.getUTCFullYear();
  return !Number.isNaN(date.getTime()) && year >= 0 && year <= 9999;
}

/** Date, date-time with an optional fraction, then Z, an offset, or nothing (UTC). */
const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * The date a filter was given: a Date, or an ISO-8601 string (a date alone
 * is midnight; a time without an offset is UTC, as in the model file's
 * period). A number is refused: seconds and milliseconds look alike.
 */
export function toDate(filter: string, value: unknown): Date {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new FilterError(filter, 'got an invalid date');
    return value;
  }
  if (value === undefined || value === null)
    throw new FilterError(filter, `its input is ${value === null ? 'null' : 'not defined'}`);
  if (typeof value !== 'string')
    throw new FilterError(
      filter,
      `takes a date or an ISO-8601 string such as "2024-01-01T00:00:00Z"; got ${typeof value === 'number' ? `the number ${value} (seconds or milliseconds? write it as a date)` : JSON.stringify(value)}`,
    );
  const match = ISO_DATE.exec(value.trim());
  const fields = (match ?? []).slice(1, 7).map((field) => Number(field ?? 0));
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = fields;
  const fraction = Number(match?.[7] ?? 0);
  // Checked field by field: Date.parse would roll 2024-02-30 over into March.
  const offset = offsetMinutes(match?.[8]);
  if (offset === undefined)
    throw new FilterError(
      filter,
      `${JSON.stringify(value)} has the offset ${match?.[8]}, past the ±23:59 that ISO 8601 allows`,
    );
  const valid =
    match !== null &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= new Date(Date.UTC(year, month, 0)).getUTCDate() &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59;
  if (!valid)
    throw new FilterError(
      filter,
      `${JSON.stringify(value)} is not an ISO-8601 date such as "2024-01-01" or "2024-01-01T06:00:00Z"`,
    );
  const utc = Date.UTC(year, month - 1, day, hour, minute, second) + Math.round(fraction * 1000);
  // Date.UTC reads years 0-99 as 1900-1999.
  const date = new Date(utc);
  date.setUTCFullYear(year);
  const moved = new Date(date.getTime() - offset * 60_000);
  if (!inYears(moved))
    throw new FilterError(
      filter,
      `${JSON.stringify(value)} is, in UTC, outside the years 0000 to 9999 that an ISO-8601 date holds`,
    );
  return moved;
}

/** "+05:30" → 330; "Z" or none → 0; undefined for one past ±23:59, which ISO 8601 does not allow. */
function offsetMinutes(zone: string | undefined): number | undefined {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4) || 0);
  if (hours > 23 || minutes > 59) return undefined;
  return (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}
