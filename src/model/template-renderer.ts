import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { closestMatch } from '../config/did-you-mean.js';
import { ConfigError } from '../errors.js';
import { PACKAGE_ROOT } from '../package-info.js';
import type { TemplateContext } from './template-context.js';
import { configureEnvironment, UNDEFINED_INPUT } from './template-environment.js';
import { nunjucksLoader, TemplateLoader } from './template-loader.js';
import { expressionAt, setOf, undefinedPath } from './undefined-name.js';

/** The worker's script: built beside the CLI (npm run build). */
export const RENDER_WORKER_SCRIPT = join(PACKAGE_ROOT, 'dist', 'render-worker.js');

/** One render: a file's text (with its path, for includes and errors), or a name (no path). */
export interface RenderJob {
  id: number;
  text: string;
  path?: string | undefined;
  context: TemplateContext;
}

export type RenderReply =
  | { id: number; text: string }
  | { id: number; error: string; refusal?: { message: string; hint: string | undefined } };

/** Thrown by `render` once the signal has ended the rendering; the caller sees signal.aborted. */
export class RenderAborted extends Error {}

/** Renders template text; `where` names it in errors ("big.txt", "the name of x/{{ a }}"). */
export interface TemplateRenderer {
  render(where: string, text: string, path?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * A renderer for the template folder `root`. With a signal, and once built,
 * renders in a worker thread that the signal terminates, so that a render
 * of minutes ends within moments of Ctrl-C or SIGTERM. Without a signal
 * (and in tests run from the sources) it renders in this thread. A worker
 * costs about a tenth of a second to start; a signal that goes unheard for
 * as long as a render takes costs more.
 */
export async function openRenderer(
  root: string,
  context: TemplateContext,
  signal: AbortSignal | undefined,
  script = RENDER_WORKER_SCRIPT,
  memoryMiB = RENDER_MEMORY_MIB,
): Promise<TemplateRenderer> {
  return signal !== undefined && existsSync(script)
    ? workerRenderer(root, context, signal, script, memoryMiB)
    : inThreadRenderer(root, context);
}

/**
 * The worker's heap: far more than any template a model needs, and reached
 * in seconds by one that would otherwise render for minutes until the
 * machine runs out of memory.
 */
export const RENDER_MEMORY_MIB = 2048;

async function inThreadRenderer(root: string, context: TemplateContext): Promise<TemplateRenderer> {
  // Loaded only here: with a worker, Nunjucks runs there alone.
  const nunjucks = await import('nunjucks');
  const loader = new TemplateLoader(root);
  const env = configureEnvironment(
    nunjucks,
    new nunjucks.Environment(nunjucksLoader(loader), {
      autoescape: false,
      throwOnUndefined: true,
    }),
  );
  return {
    async render(where, text, path) {
      loader.reset();
      try {
        return path === undefined
          ? env.renderString(text, context)
          : new nunjucks.Template(text, env, path).render(context);
      } catch (error) {
        throw renderError(
          { where, text, context },
          (error as Error).message,
          loader.refusal,
          error,
        );
      }
    },
    async close() {},
  };
}

function workerRenderer(
  root: string,
  context: TemplateContext,
  signal: AbortSignal,
  script: string,
  memoryMiB: number,
): TemplateRenderer {
  const worker = new Worker(script, {
    workerData: { root },
    resourceLimits: { maxOldGenerationSizeMb: memoryMiB },
  });
  const pending = new Map<number, (reply: RenderReply | Error) => void>();
  let nextId = 1;
  const failAll = (error: Error) => {
    for (const settle of pending.values()) settle(error);
    pending.clear();
  };
  worker.on('message', (reply: RenderReply) => {
    pending.get(reply.id)?.(reply);
    pending.delete(reply.id);
  });
  worker.on('error', failAll);
  worker.on('exit', () => failAll(new RenderAborted('the render worker ended')));
  const onAbort = () => {
    failAll(new RenderAborted('rendering stopped by a signal'));
    void worker.terminate();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  return {
    async render(where, text, path) {
      if (signal.aborted) throw new RenderAborted('rendering stopped by a signal');
      const id = nextId++;
      const reply = await new Promise<RenderReply | Error>((resolve) => {
        pending.set(id, resolve);
        worker.postMessage({ id, text, path, context } satisfies RenderJob);
      });
      if (reply instanceof Error) {
        if ((reply as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY')
          throw new ConfigError(
            `template ${where}: rendering it needs more than ${memoryMiB} MiB of memory; its output is too large`,
            {
              hint: 'check its loops (a loop inside a loop multiplies the output); write large data with the model, not through the template',
            },
          );
        throw reply;
      }
      if ('text' in reply) return reply.text;
      const refusal =
        reply.refusal === undefined
          ? undefined
          : new ConfigError(reply.refusal.message, { hint: reply.refusal.hint });
      throw renderError({ where, text, context }, reply.error, refusal, undefined);
    },
    async close() {
      signal.removeEventListener('abort', onAbort);
      await worker.terminate();
    },
  };
}

/** The template a render error is about: its name, its text and what it saw. */
interface Rendered {
  where: string;
  text: string;
  context: TemplateContext;
}

/**
 * Turns Nunjucks' "(path) [Line 3, Column 12] attempted to output null or
 * undefined value" into an error that names the template file, the line,
 * and the variable that is not defined. A filter's own complaint (a bad
 * date, an unknown strftime directive) is shown as the filter said it. An
 * include the loader refused is thrown as it said.
 */
function renderError(
  template: Rendered,
  message: string,
  refusal: ConfigError | undefined,
  cause: unknown,
): ConfigError {
  const { where } = template;
  if (refusal !== undefined) {
    return new ConfigError(`template ${where}: ${refusal.message}`, {
      hint: refusal.hint,
      cause: cause ?? refusal,
    });
  }
  const position = /\[Line (\d+), Column (\d+)\]/.exec(message);
  const reason = (message.split('\n').at(-1)?.trim() ?? message).replace(/^\w*Error: /, '');
  const at = position === null ? '' : `, line ${position[1]}, column ${position[2]}`;
  const withCause = cause === undefined ? {} : { cause };
  if (/undefined value/.test(reason) || reason.endsWith(UNDEFINED_INPUT)) {
    const expression =
      position === null
        ? undefined
        : expressionAt(template.text, Number(position[1]), Number(position[2]));
    // A copy whose type says what undefinedPath reads: names, looked up one by one.
    const context: Record<string, unknown> = { ...template.context };
    let missing = expression === undefined ? undefined : undefinedPath(expression, context);
    let shownAt = at;
    // `{% set y = config.nope %}{{ y }}` fails at {{ y }}; the set is what names the mistake.
    const set =
      missing !== undefined && missing.parent === undefined
        ? setOf(template.text, missing.path)
        : undefined;
    const fromSet = set === undefined ? undefined : undefinedPath(set.expression, context);
    if (set !== undefined && fromSet?.parent !== undefined) {
      missing = fromSet;
      shownAt = `, line ${set.line}, column ${set.column}`;
    }
    const named =
      missing !== undefined
        ? `${missing.path} is not defined`
        : expression !== undefined
          ? `"${expression}" has no value`
          : 'uses a variable that is not defined';
    const name = missing?.path.split(/[.[]/).at(-1) ?? '';
    const closest =
      missing?.known === undefined || missing.known.length === 0
        ? ''
        : closestMatch(name, missing.known);
    // Never "did you mean config.x?" about config.x itself.
    const suggestion = closest === name ? '' : closest;
    // runtime's names come from modelrun alone: config cannot add one.
    const inRuntime = missing?.path.startsWith('runtime.') === true;
    return new ConfigError(`template ${where}${shownAt}: ${named}`, {
      hint: [
        suggestion ? `did you mean ${missing?.parent}.${suggestion}? ` : '',
        inRuntime
          ? `${missing?.parent} has ${missing?.known?.join(', ') || 'nothing'}; fix the spelling, or put a value of your own under \`config:\` in the model file and write {{ config.name }}`
          : [
              missing?.parent === 'config'
                ? `config has ${missing.known?.join(', ') || 'nothing'}; define it under \`config:\` in the model file, `
                : 'define it under `config:` in the model file, fix its spelling, ',
              'or give a fallback with {{ name | default("value") }}; runtime has run_id, period, staging_dir, generated_at and host',
            ].join(''),
      ].join(''),
      ...withCause,
    });
  }
  if (/^filter \w+: /.test(reason)) {
    return new ConfigError(`template ${where}${at}: ${reason}`, {
      hint: 'see "Date filters" under Templates in the README for the filters and the strftime directives',
      ...withCause,
    });
  }
  return new ConfigError(`template ${where}${at}: ${reason}`, {
    hint: 'see the Nunjucks template syntax (the same as Jinja2)',
    ...withCause,
  });
}
