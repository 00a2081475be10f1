/** A single-quoted word the shell reads back exactly: spaces, quotes, `$` and backslashes included. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** One argument of a command line: as it is when the shell would read it so, else quoted. */
export function shellWord(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : shellQuote(arg);
}
