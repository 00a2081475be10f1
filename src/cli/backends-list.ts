import type { Availability } from '../backends/contract.js';
import { backendRegistry } from '../backends/registry.js';
import { postprocessorRegistry } from '../postprocess/registry.js';
import type { BackendsListOptions } from './command-options.js';
import type { CommandContext } from './context.js';

/** Lists every backend type with whether its engine can be used here right now, and every postprocessor. */
export async function runBackendsList(
  options: BackendsListOptions & {
    /** How long each engine may take to answer. */
    timeoutMs?: number;
  },
  { output, env }: Pick<CommandContext, 'output' | 'env'>,
): Promise<number> {
  const probeOptions = { env, timeoutMs: options.timeoutMs ?? 3000 };
  const availability: Availability[] = await Promise.all(
    backendRegistry.map((backend) => backend.probe(probeOptions)),
  );
  const backends = backendRegistry.map((backend, i) => ({
    type: backend.type,
    description: backend.description,
    ...(availability[i] as Availability),
  }));
  const postprocessors = postprocessorRegistry.map((p) => ({
    type: p.type,
    description: p.description,
  }));
  if (options.json) {
    output.raw(`${JSON.stringify({ backends, postprocessors }, null, 2)}\n`);
    return 0;
  }
  const { style } = output;
  const width = Math.max(...backends.map((b) => b.type.length));
  output.result(style.bold('Backends'));
  for (const backend of backends) {
    const mark = backend.available ? style.success('✓') : style.failure('✗');
    output.result(`  ${mark} ${backend.type.padEnd(width)}  ${backend.description}`);
    const indent = ' '.repeat(width + 6);
    output.result(`${indent}${backend.available ? backend.detail : style.failure(backend.detail)}`);
    if (backend.hint !== undefined) output.result(`${indent}${style.dim(`hint: ${backend.hint}`)}`);
  }
  output.result(style.bold('Postprocessors'));
  const postWidth = Math.max(...postprocessors.map((p) => p.type.length));
  for (const p of postprocessors)
    output.result(`  ${style.success('✓')} ${p.type.padEnd(postWidth)}  ${p.description}`);
  return 0;
}
