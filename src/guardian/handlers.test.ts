import { describe, expect, it } from 'vitest';
import { backendRegistry } from '../backends/registry.js';
import { coreUndoHandlers, undoHandlers } from './handlers.js';

describe('the undo handlers', () => {
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

  it('knows the kinds every run and ensemble emits without loading the backends', async () => {
    const kinds = ['ensemble-record', 'process-group', 'run-record', 'staging-lock'];
    const handlers = await undoHandlers(kinds);
    expect([...handlers.keys()].sort()).toEqual(kinds);
  });
});
