import { closeSync, constants, fstatSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type nunjucks from 'nunjucks';
import { ConfigError } from '../errors.js';
import { firstInvalidOffset } from '../utf8.js';
import { within } from './staging-dir.js';
import { templateFsError } from './template-fs-error.js';

/**
 * Loads the files that {% include %}, {% import %} and {% extends %} name,
 * from the template folder only. Nunjucks' own FileSystemLoader checks with a
 * bare string prefix, so `template` let `../template-secrets/x` through, and
 * it follows symlinks anywhere; this one compares real paths by component.
 *
 * Nunjucks wraps what a loader throws in errors of its own and drops the
 * cause, so the refusal is also kept here for the caller to throw instead.
 */
export class TemplateLoader {
  /** The first include this loader refused, since the last `reset()`. */
  refusal: ConfigError | undefined;

  /** The names relative includes were written as, by the path they resolved to. */
  private readonly written = new Map<string, string>();

  constructor(private readonly root: string) {}

  reset(): void {
    this.refusal = undefined;
  }

  /** Relative names ("./x", "../x") are resolved against the including file, as Nunjucks' loaders do. */
  isRelative(name: string): boolean {
    return name.startsWith('./') || name.startsWith('../');
  }

  resolve(from: string, to: string): string {
    const path = resolve(dirname(from), to);
    this.written.set(path, to);
    return path;
  }

  getSource(resolved: string): nunjucks.LoaderSource | null {
    // Errors name the include as written, not as resolved.
    const name = this.written.get(resolved) ?? resolved;
    const path = resolve(this.root, resolved);
    if (!within(this.root, path)) throw this.refuse(name, 'leaves the template folder');
    let real: string;
    try {
      real = realpathSync(path);
    } catch (error) {
      // Missing: Nunjucks says "template not found", or skips it with `ignore missing`.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw this.keep(templateFsError(error, `the included template "${name}"`));
    }
    if (!within(this.root, real))
      throw this.refuse(name, `is a symlink to ${real}, outside the template folder`);
    return { src: this.read(name, real), path, noCache: true };
  }

  private read(name: string, real: string): string {
    let fd: number;
    try {
      // Non-blocking, so a FIFO cannot hang the open; it is refused below.
      fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      throw this.keep(templateFsError(error, `the included template "${name}"`));
    }
    try {
      if (!fstatSync(fd).isFile()) throw this.refuse(name, 'is not a file');
      const bytes = readFileSync(fd);
      const bad = firstInvalidOffset(bytes);
      if (bad < bytes.length)
        throw this.refuse(name, `is not UTF-8 text (byte ${bad} is 0x${hex(bytes[bad])})`);
      return bytes.toString('utf8');
    } catch (error) {
      throw this.keep(templateFsError(error, `the included template "${name}"`));
    } finally {
      closeSync(fd);
    }
  }

  private refuse(name: string, why: string): ConfigError {
    return this.keep(
      new ConfigError(`the included template "${name}" ${why}`, {
        hint: `{% include %}, {% import %} and {% extends %} can only name files inside the template folder ${this.root}; move the file there`,
      }),
    ) as ConfigError;
  }

  private keep(error: unknown): unknown {
    if (error instanceof ConfigError && this.refusal === undefined) this.refusal = error;
    return error;
  }
}

/**
 * The loader as a Nunjucks environment takes it. Nunjucks reads a null
 * source as "not found", which is how `{% include "x" ignore missing %}`
 * skips a missing file (its own FileSystemLoader returns null too), but
 * @types/nunjucks declares a loader's source as never null: this is the one
 * place that says the types are wrong.
 */
export function nunjucksLoader(loader: TemplateLoader): nunjucks.ILoader {
  return loader as nunjucks.ILoader;
}

export function hex(byte: number | undefined): string {
  return (byte ?? 0).toString(16).padStart(2, '0');
}
