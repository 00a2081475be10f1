import { describe, expect, it } from 'vitest';
import { backendRegistry } from '../backends/registry.js';
import { coreUndoHandlers, undoHandlers } from './handlers.js';
import type { GuardTask } from './tasks.js';

/** What each backend's runs hand the guardian, as its definition declares it. */
const EMITTED: Record<string, GuardTask['kind'][]> = {
  local: ['process-group'],
  docker: ['docker-container'],
  apptainer: ['process-group', 'secret-file'],
  slurm: ['slurm-job', 'secret-file'],
};

describe('the undo handlers', () => {
  it.each(backendRegistry.map((backend) => [backend.type, backend] as const))(
    '%s declares a handler for every kind its runs emit, each undone at a backend stage',
    (type, backend) => {
      expect(backend.undo.map((handler) => handler.kind).sort()).toEqual(
        [...(EMITTED[type] ?? [])].sort(),
      );
      for (const handler of backend.undo) {
        expect(['stop', 'secret-file']).toContain(handler.stage);
        expect(handler.undo).toBeTypeOf('function');
      }
    },
  );

  it('lists every backend the registry has', () => {
    expect(Object.keys(EMITTED).sort()).toEqual(backendRegistry.map((b) => b.type).sort());
  });

  it('gives the guardian a handler for every kind of every backend, and its own', async () => {
    const declared = [
      ...Object.keys(coreUndoHandlers),
      ...backendRegistry.flatMap((backend) => backend.undo.map((handler) => handler.kind)),
    ];
    const handlers = await undoHandlers(declared);
    for (const kind of declared) expect(handlers.get(kind)?.kind).toBe(kind);
    // One handler a kind, whichever backends share it.
    for (const backend of backendRegistry)
      for (const handler of backend.undo) expect(handlers.get(handler.kind)).toBe(handler);
  });

  it('knows the kinds every run emits without loading the backends', async () => {
    const handlers = await undoHandlers(['process-group', 'run-record', 'staging-lock']);
    expect([...handlers.keys()].sort()).toEqual(['process-group', 'run-record', 'staging-lock']);
  });
});
