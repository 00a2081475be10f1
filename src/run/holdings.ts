import {
  type GuardTaskBase,
  processGroupUndo,
  type UndoHandler,
  type UndoStage,
} from '../exec/guard.js';
import { coreUndoHandlers } from '../guardian/handlers.js';
import type { Guard, GuardTask } from '../guardian/tasks.js';

/** The handlers of every kind a run of a backend may hold: the backend's own, process groups and the core kinds. */
export function handlersFor(
  backendUndo: readonly UndoHandler<GuardTaskBase>[],
): Map<string, UndoHandler<GuardTaskBase>> {
  const all: UndoHandler<GuardTaskBase>[] = [
    ...Object.values(coreUndoHandlers),
    processGroupUndo,
    ...backendUndo,
  ];
  return new Map(all.map((handler) => [handler.kind, handler]));
}

/**
 * What a run holds and has not released, in one place: each process group,
 * container, job, env file, record and lock a run takes is held here as
 * its guard task, handed on to the guardian (when there is one), and
 * withdrawn when released. What a stopped run says it left behind is named
 * from the same tasks the guardian would undo, so the two cannot differ.
 */
export class Holdings {
  private readonly held = new Set<{ task: GuardTask }>();

  constructor(
    /** How each kind of task is undone and named, by kind. */
    private readonly handlers: ReadonlyMap<string, UndoHandler<GuardTaskBase>>,
    private readonly guardian?: Guard,
  ) {}

  /** Takes a task; the function returned releases it (once, however often called). */
  readonly hold: Guard = (task) => {
    const entry = { task };
    this.held.add(entry);
    const withdraw = this.guardian?.(task);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held.delete(entry);
      withdraw?.();
    };
  };

  /** The tasks held now, oldest first. */
  tasks(): GuardTask[] {
    return [...this.held].map((entry) => entry.task);
  }

  /** What is held of the given stages (by default what runs: `stop`), named for a person with how to undo it by hand. */
  leftovers(stages: readonly UndoStage[] = ['stop']): string[] {
    return this.tasks().flatMap((task) => {
      const handler = this.handlers.get(task.kind);
      if (handler === undefined) return [task.kind];
      return stages.includes(handler.stage) ? [handler.describe(task)] : [];
    });
  }
}
