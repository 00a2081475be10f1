import { describe, expect, it } from 'vitest';
import { addTime, FilterError, STRFTIME_DIRECTIVES, strftime, toDate } from './date-filters.js';

describe('strftime', () => {
  it.each([
    ['%Y%m%d %H%M%S', '20240101 000000'],
    ['%Y-%m-%dT%H:%M:%S', '2024-01-01T00:00:00'],
    ['%j', '001'],
    ['%y', '24'],
    ['%b %B', 'Jan January'],
    ['%a %A', 'Mon Monday'],
    ['%e', ' 1'],
    ['100%%', '100%'],
    ['no directives', 'no directives'],
  ])('formats 2024-01-01T00:00:00Z with %j as %j', (format, expected) => {
    expect(strftime('2024-01-01T00:00:00Z', format)).toBe(expected);
  });

  it('documents exactly the directives it knows', () => {
    expect([...STRFTIME_DIRECTIVES].sort()).toEqual(
      ['%Y', '%m', '%d', '%H', '%M', '%S', '%j', '%y', '%b', '%B', '%a', '%A', '%e', '%%'].sort(),
    );
  });

  it('formats in UTC, whatever the offset it is given', () => {
    expect(strftime('2024-12-31T23:30:00-01:00', '%Y%m%d %H%M %j')).toBe('20250101 0030 001');
    expect(strftime('2024-12-31T23:30:00', '%j')).toBe('366');
    expect(strftime(new Date(Date.UTC(2024, 1, 29, 6)), '%d %H')).toBe('29 06');
  });

  it.each([
    ['%Q', /unknown directive "%Q" in "%Q"; known: %Y/],
    ['%Y%', /ends with a lone "%"/],
  ])('names a bad format %j', (format, message) => {
    expect(() => strftime('2024-01-01', format)).toThrow(FilterError);
    expect(() => strftime('2024-01-01', format)).toThrow(message);
  });
});

describe('the dates the filters take', () => {
  it.each([
    ['2024-01-01', '2024-01-01T00:00:00.000Z'],
    ['2024-01-01T06:00', '2024-01-01T06:00:00.000Z'],
    ['2024-01-01 06:00:00', '2024-01-01T06:00:00.000Z'],
    ['2024-01-01T06:00:00.250Z', '2024-01-01T06:00:00.250Z'],
    ['2024-01-01T06:00:00+05:30', '2024-01-01T00:30:00.000Z'],
    ['2024-01-01T06:00:00+0200', '2024-01-01T04:00:00.000Z'],
    ['2024-01-01T06:00:00-23:59', '2024-01-02T05:59:00.000Z'],
    ['0099-03-01', '0099-03-01T00:00:00.000Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(toDate('f', text).toISOString()).toBe(iso);
  });

  it.each([
    ['2024-02-30', /"2024-02-30" is not an ISO-8601 date/],
    ['2024-13-01', /not an ISO-8601 date/],
    ['2024-01-01T24:00:00Z', /not an ISO-8601 date/],
    ['yesterday', /not an ISO-8601 date/],
    [1_700_000_000, /the number 1700000000 \(seconds or milliseconds\?/],
    [undefined, /its input is not defined/],
    [null, /its input is null/],
    [new Date(Number.NaN), /an invalid date/],
    ['2024-01-01T00:00:00+99:00', /has the offset \+99:00, past the ±23:59 that ISO 8601 allows/],
    ['2024-01-01T00:00:00-0075', /has the offset -0075, past the ±23:59/],
    ['9999-12-31T23:00:00-05:00', /is, in UTC, outside the years 0000 to 9999/],
  ])('refuses %j, saying why', (value, message) => {
    expect(() => toDate('strftime', value)).toThrow(message);
  });
});

describe('date arithmetic', () => {
  it.each([
    ['hours', 6, '2024-01-01T06:00:00.000Z'],
    ['hours', -1, '2023-12-31T23:00:00.000Z'],
    ['days', 60, '2024-03-01T00:00:00.000Z'],
    ['minutes', 90, '2024-01-01T01:30:00.000Z'],
    ['seconds', 1, '2024-01-01T00:00:01.000Z'],
  ] as const)('add_%s(%i) is exact in UTC', (unit, amount, expected) => {
    expect(addTime(unit)('2024-01-01T00:00:00Z', amount)).toBe(expected);
  });

  it.each([[1.5], ['6'], [undefined]])('refuses an amount of %j', (amount) => {
    expect(() => addTime('hours')('2024-01-01', amount)).toThrow(
      /^filter add_hours: needs a whole number of hours/,
    );
  });

  it.each([
    [
      'seconds',
      '9999-12-31T23:59:59Z',
      1,
      /add_seconds\(1\) moves the date out of the years 0000 to 9999/,
    ],
    ['days', '0000-01-01', -1, /add_days\(-1\) moves the date out of the years 0000 to 9999/],
    [
      'days',
      '2024-01-01',
      10_000_000_000,
      /add_days\(10000000000\) moves the date out of the years/,
    ],
    ['days', '2024-01-01', 1e300, /got 1e\+300, too large to count exactly/],
    ['days', '2024-01-01', undefined, /got no value \(.*exponent notation such as 1e10/],
  ] as const)('add_%s on %s by %j refuses, saying why', (unit, date, amount, message) => {
    expect(() => addTime(unit)(date, amount)).toThrow(message);
  });
});
