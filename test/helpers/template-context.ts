import type { TemplateContext } from '../../src/model/template-context.js';

/** What a template sees in the template tests: a fixed runtime, and the given `config`. */
export function templateContext(config: Record<string, unknown>): TemplateContext {
  return {
    runtime: {
      run_id: 'run-7',
      staging_dir: '/staging',
      generated_at: '2024-01-01T00:00:00.000Z',
      host: { hostname: 'h', platform: 'linux', arch: 'x64', cpus: 2, user: 'u' },
      period: {
        start: '2024-01-01T00:00:00.000Z',
        end: '2024-01-01T02:00:00.000Z',
        interval: '1h',
        interval_seconds: 3600,
        steps: ['a', 'b', 'c'],
      },
    },
    config,
  };
}
