import { Chalk, type ChalkInstance } from 'chalk';
import { escapeDeceptive } from '../exec/visible-name.js';
import { Redactor } from '../secrets.js';

/** A stream the CLI writes to; process.stdout in real use, a buffer in tests. */
export interface TextSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface OutputOptions {
  stdout: TextSink;
  stderr: TextSink;
  env: NodeJS.ProcessEnv;
  color: boolean;
  verbose: boolean;
}

/**
 * All of modelrun's terminal styling lives here. Results go to stdout,
 * messages to stderr, and debug lines to stderr only under --verbose.
 */
export class Output {
  readonly verbose: boolean;
  /** Secret values never printed by modelrun itself; commands add the ones they learn of. */
  readonly redactor = new Redactor();
  /**
   * Styles for text on stdout (result, raw); `stderrStyle` for text on
   * stderr (info, status, the summary). Each stream decides its own colour:
   * `run 2>err.txt` on a terminal keeps escapes out of the file, and
   * `run --json >out.json` still colours what the terminal shows.
   */
  readonly style: Styles;
  readonly stderrStyle: Styles;

  /**
   * Where modelrun's own lines go. Every line of modelrun's passes through
   * escapeDeceptive here, the one place no message can miss: a run dir, a
   * file or a value named in a line cannot turn the line around with a bidi
   * override. Machine output (raw, maskedRaw) and the model's own output,
   * which never passes through Output, go out byte for byte.
   */
  private readonly lines: { stdout: TextSink; stderr: TextSink };

  constructor(private readonly options: OutputOptions) {
    this.verbose = options.verbose;
    const escaping = (sink: TextSink): TextSink => ({
      write: (text: string) => sink.write(escapeDeceptive(text)),
    });
    this.lines = { stdout: escaping(options.stdout), stderr: escaping(options.stderr) };
    this.redactor.addEnv(options.env);
    this.style = new Styles(new Chalk({ level: colorLevel(options, options.stdout) }));
    this.stderrStyle = new Styles(new Chalk({ level: colorLevel(options, options.stderr) }));
  }

  /** A line of the command's result, on stdout. */
  result(line: string): void {
    this.lines.stdout.write(`${this.redactor.redact(line)}\n`);
  }

  /** Raw text on stdout, for machine formats. */
  raw(text: string): void {
    this.options.stdout.write(this.redactor.redact(text));
  }

  /**
   * Lines and text whose secrets the caller has already masked (a run
   * record, a summary), printed as they are: masking them again by value
   * would also mask modelrun's own facts (a status, a path) that a secret
   * happens to equal.
   */
  maskedResult(line: string): void {
    this.lines.stdout.write(`${line}\n`);
  }

  maskedRaw(text: string): void {
    this.options.stdout.write(text);
  }

  maskedInfo(line: string): void {
    this.lines.stderr.write(`${line}\n`);
  }

  info(line: string): void {
    this.lines.stderr.write(`${this.redactor.redact(line)}\n`);
  }

  /** A progress line of a run ("running o1 on local"), dimmed, on stderr. */
  status(line: string): void {
    this.lines.stderr.write(`${this.stderrStyle.dim(this.redactor.redact(line))}\n`);
  }

  warn(message: string): void {
    this.lines.stderr.write(
      `${this.stderrStyle.warning('warning:')} ${this.redactor.redact(message)}\n`,
    );
  }

  error(message: string, hint?: string): void {
    this.lines.stderr.write(
      `${this.stderrStyle.failure('error:')} ${this.redactor.redact(message)}\n`,
    );
    if (hint !== undefined) this.hint(hint);
  }

  hint(hint: string): void {
    this.lines.stderr.write(`  ${this.stderrStyle.dim('hint:')} ${this.redactor.redact(hint)}\n`);
  }

  debug(line: string): void {
    if (this.verbose)
      this.lines.stderr.write(`${this.stderrStyle.dim(`debug: ${this.redactor.redact(line)}`)}\n`);
  }
}

/** The handful of styles modelrun uses, so commands never call chalk themselves. */
export class Styles {
  constructor(private readonly chalk: ChalkInstance) {}
  success = (text: string) => this.chalk.green(text);
  failure = (text: string) => this.chalk.red(text);
  warning = (text: string) => this.chalk.yellow(text);
  dim = (text: string) => this.chalk.dim(text);
  bold = (text: string) => this.chalk.bold(text);
  code = (text: string) => this.chalk.cyan(text);
}

function colorLevel(options: OutputOptions, sink: TextSink): 0 | 1 | 2 | 3 {
  if (!options.color || (options.env.NO_COLOR ?? '') !== '') return 0;
  const forced = forcedLevel(options.env.FORCE_COLOR);
  if (forced !== undefined) return forced;
  // As supports-color decides: a dumb terminal gets no colour, unless FORCE_COLOR asks for it.
  if (options.env.TERM === 'dumb') return 0;
  // The Styles above are all among the 16 basic colours, which every colour terminal has:
  // level 1 prints them as any higher level would, without asking the terminal for more.
  return sink.isTTY === true ? 1 : 0;
}

/**
 * FORCE_COLOR read from the command's environment as supports-color reads
 * it: "0" or "false" is none, "" or "true" level 1, "2" and "3" those levels.
 */
function forcedLevel(value: string | undefined): 0 | 1 | 2 | 3 | undefined {
  if (value === undefined) return undefined;
  if (value === '' || value === 'true') return 1;
  if (value === 'false') return 0;
  const level = Number.parseInt(value, 10);
  return Number.isNaN(level) ? undefined : (Math.max(0, Math.min(level, 3)) as 0 | 1 | 2 | 3);
}
