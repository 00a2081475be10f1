import { copyFile, mkdir, open, readdir, realpath, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import nunjucks from 'nunjucks';
import { ConfigError } from '../errors.js';
import { isInside } from './staging-dir.js';
import type { TemplateContext } from './template-context.js';

/** Files with a NUL byte in their first 8 KiB are binary, and copied untouched. */
const SNIFF_BYTES = 8192;

export interface RenderSummary {
  files: number;
  rendered: number;
  copied: number;
}

/**
 * Renders a template folder into the staging directory with Nunjucks: file
 * contents and file and folder names alike. Nothing is written outside the
 * staging directory, whatever a name renders to and whatever symlinks the
 * staging directory already holds.
 */
export async function renderTemplate(
  templateDir: string,
  stagingDir: string,
  context: TemplateContext,
): Promise<RenderSummary> {
  const env = new nunjucks.Environment(
    new nunjucks.FileSystemLoader(templateDir, { noCache: true }),
    {
      autoescape: false,
      throwOnUndefined: true,
    },
  );
  await mkdir(stagingDir, { recursive: true });
  const root = await realpath(stagingDir);
  const summary: RenderSummary = { files: 0, rendered: 0, copied: 0 };

  const walk = async (sourceDir: string, targetDir: string): Promise<void> => {
    const entries = await readdir(join(templateDir, sourceDir), { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const source = join(sourceDir, entry.name);
      const target = resolve(targetDir, renderName(env, entry.name, source, context));
      await assertInside(root, target, source);
      if (entry.isDirectory()) {
        await mkdir(target, { recursive: true });
        await walk(source, target);
      } else if (entry.isFile()) {
        await mkdir(dirname(target), { recursive: true });
        await assertInside(root, target, source);
        if (await isBinary(join(templateDir, source))) {
          await copyFile(join(templateDir, source), target);
          summary.copied++;
        } else {
          await writeFile(target, renderFile(env, source, context));
          summary.rendered++;
        }
        summary.files++;
      }
    }
  };
  await walk('', root);
  return summary;
}

/** The target, and the real folder it would be written in, must both lie inside the staging directory. */
async function assertInside(root: string, target: string, source: string): Promise<void> {
  const parent = await realpath(dirname(target)).catch(() => dirname(target));
  if (!isInside(root, target) || (parent !== root && !isInside(root, parent))) {
    throw new ConfigError(
      `template entry ${source} would be written to ${target}, outside the staging directory ${root}`,
      {
        hint: 'template names must not render to absolute paths or climb out with "..", and the staging directory must not link outside itself',
      },
    );
  }
}

function renderName(
  env: nunjucks.Environment,
  name: string,
  source: string,
  context: TemplateContext,
): string {
  if (!/[{][{%#]/.test(name)) return name;
  const rendered = render(() => env.renderString(name, context), `the name of ${source}`).trim();
  if (rendered === '') {
    throw new ConfigError(`template entry ${source}: its name renders to nothing`, {
      hint: 'check the variables its name uses',
    });
  }
  return rendered;
}

function renderFile(env: nunjucks.Environment, source: string, context: TemplateContext): string {
  // The loader resolves names with forward slashes, whatever the platform.
  return render(() => env.render(source.split('\\').join('/'), context), source);
}

/**
 * Turns Nunjucks' "(path) [Line 3, Column 12] attempted to output null or
 * undefined value" into an error that names the template file, the line,
 * and the expression.
 */
function render(fn: () => string, where: string): string {
  try {
    return fn();
  } catch (error) {
    const message = (error as Error).message;
    const position = /\[Line (\d+), Column (\d+)\]/.exec(message);
    const reason = message.split('\n').at(-1)?.trim() ?? message;
    const at = position === null ? '' : `, line ${position[1]}, column ${position[2]}`;
    const undefinedValue = /undefined value/.test(reason);
    throw new ConfigError(
      `template ${where}${at}: ${undefinedValue ? 'uses a variable that is not defined' : reason}`,
      {
        hint: undefinedValue
          ? 'define it under `config:` in the model file, fix its spelling, or give a fallback with {{ name | default("value") }}; runtime has run_id, period, staging_dir, generated_at and host'
          : 'see the Nunjucks template syntax (the same as Jinja2)',
        cause: error,
      },
    );
  }
}

async function isBinary(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead).includes(0);
  } finally {
    await handle.close();
  }
}
