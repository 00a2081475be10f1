// Renders template text for render-template.ts in a worker thread. A
// Nunjucks render is one synchronous call, during which the main thread
// cannot see a signal; in a worker, the main thread stays free to hear
// SIGINT or SIGTERM and to end a render at once by terminating the worker.
import { parentPort, workerData } from 'node:worker_threads';
import nunjucks from 'nunjucks';
import { configureEnvironment } from './template-environment.js';
import { nunjucksLoader, TemplateLoader } from './template-loader.js';
import type { RenderJob, RenderReply } from './template-renderer.js';

const loader = new TemplateLoader((workerData as { root: string }).root);
const env = configureEnvironment(
  nunjucks,
  new nunjucks.Environment(nunjucksLoader(loader), {
    autoescape: false,
    throwOnUndefined: true,
  }),
);

parentPort?.on('message', (job: RenderJob) => {
  loader.reset();
  let reply: RenderReply;
  try {
    const text =
      job.path === undefined
        ? env.renderString(job.text, job.context)
        : new nunjucks.Template(job.text, env, job.path).render(job.context);
    reply = { id: job.id, text };
  } catch (error) {
    const refusal = loader.refusal;
    reply = {
      id: job.id,
      error: (error as Error).message,
      ...(refusal === undefined
        ? {}
        : { refusal: { message: refusal.message, hint: refusal.hint } }),
    };
  }
  parentPort?.postMessage(reply);
});
