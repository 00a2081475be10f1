import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { findBackend } from '../../src/backends/registry.js';
import { diskPathContext } from '../../src/config/path-context.js';
import type { BackendConfig } from '../../src/load/backend-config.js';
import { modelConfigSchema } from '../../src/load/model-schema.js';
import { stagingDirOf } from '../../src/model/staging-dir.js';
import type { PipelineDeps, RunRequest } from '../../src/run/pipeline.js';
import { Session } from '../../src/run/session.js';
import { Redactor } from '../../src/secrets.js';
import type { Tree } from './tree.js';

/**
 * A run request and its dependencies for the library API, as the CLI would
 * build them, with the echoed output and status lines captured.
 */
export function pipelineHarness(
  tree: Tree,
  model: Record<string, unknown>,
  backend: Record<string, unknown>,
) {
  const ctx = diskPathContext(tree.root);
  const definition = findBackend(String(backend.type));
  if (definition === undefined) throw new Error(`no backend ${String(backend.type)}`);
  const request: RunRequest = {
    model: modelConfigSchema(ctx).parse({ run_id: 'r1', ...model }),
    backend: definition.configSchema(ctx).parse(backend) as BackendConfig,
    postprocessors: [],
    dryRun: false,
    skipGenerate: false,
    postprocess: true,
    cleanupOnFailure: false,
    sources: [],
  };
  const session = new Session();
  const captured = { stdout: '', stderr: '', status: [] as string[] };
  const terminal = { stdout: new PassThrough(), stderr: new PassThrough() };
  terminal.stdout.on('data', (chunk: Buffer) => (captured.stdout += chunk));
  terminal.stderr.on('data', (chunk: Buffer) => (captured.stderr += chunk));
  const deps: PipelineDeps = {
    env: process.env,
    home: tree.root,
    terminal,
    status: (line) => captured.status.push(line),
    signal: session.signal,
    cleanup: session.cleanup,
    redactor: new Redactor(),
  };
  const staging = stagingDirOf(request.model);
  const runJson = () => JSON.parse(readFileSync(`${staging}/.modelrun/run.json`, 'utf8'));
  return { request, deps, session, captured, staging, runJson };
}
