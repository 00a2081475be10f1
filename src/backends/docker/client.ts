import type { ContainerSpec } from '../containers/engine-spec.js';

/**
 * A build context as the engine reads it: piped into the request, its
 * failure heard. No more than that: the tar is a streamx stream (tar-stream),
 * which has no isPaused, unpipe or wrap.
 */
export interface ContextStream {
  pipe(destination: NodeJS.WritableStream): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** One line of the engine's JSON progress stream, from a pull or a build. */
export interface ProgressMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  /** Build output. */
  stream?: string;
  error?: string;
  errorDetail?: { message?: string; code?: number };
}

export interface BuildOptions {
  tag: string;
  /** The Dockerfile's path inside the context tar. */
  dockerfile: string;
  buildArgs: Record<string, string>;
  /** Pull newer base images (pull_policy: always). */
  pull: boolean;
  labels: Record<string, string>;
}

export interface ContainerState {
  running: boolean;
  exitCode: number;
  oomKilled: boolean;
}

/** The engine's out-of-memory reports for one container, heard from before its start. */
export interface OutOfMemoryWatch {
  /** Whether the engine reported an OOM kill; waits up to `ms` for a report still on its way. */
  seen(ms: number): Promise<boolean>;
  /** Stops listening. */
  close(): void;
}

/** A container modelrun created. */
export interface EngineContainer {
  id: string;
  /** The multiplexed stdout/stderr stream; attach before start to miss nothing. */
  attach(): Promise<NodeJS.ReadableStream>;
  /**
   * Registers a wait for the container's next exit. Resolves once the engine
   * has taken the wait, with the exit status to come: so the wait is in place
   * before start, and a fast exit cannot slip past it.
   */
  waitForExit(): Promise<{ exited: Promise<{ exitCode: number }> }>;
  /**
   * Listens for the engine's "oom" events for this container. State.OOMKilled
   * is set only when the kernel's report beats the exit through containerd,
   * which under load it does not always; the event comes either way.
   */
  watchOutOfMemory(): Promise<OutOfMemoryWatch>;
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceSeconds`, done by the engine. */
  stop(graceSeconds: number): Promise<void>;
  kill(): Promise<void>;
  state(): Promise<ContainerState>;
  /** Removes the container, stopping it first if it runs. */
  remove(): Promise<void>;
}

/**
 * The part of the Docker Engine API that modelrun uses. The runner talks to
 * this, not to dockerode: unit tests hand it a fake, integration tests the
 * real engine.
 */
export interface DockerEngine {
  /** unix:///var/run/docker.sock, tcp://host:2375… */
  address: string;
  /** Quick calls take `signal`, which ends them at modelrun's deadline or on an interrupt. */
  version(signal?: AbortSignal): Promise<{ version: string; apiVersion: string }>;
  imageExists(reference: string, signal?: AbortSignal): Promise<boolean>;
  pull(reference: string, signal: AbortSignal): Promise<AsyncIterable<ProgressMessage>>;
  build(
    context: ContextStream,
    options: BuildOptions,
    signal: AbortSignal,
  ): Promise<AsyncIterable<ProgressMessage>>;
  createContainer(
    name: string,
    spec: ContainerSpec,
    signal?: AbortSignal,
  ): Promise<EngineContainer>;
  /** Containers carrying all these labels, running or not. */
  listContainers(labels: Record<string, string>): Promise<{ id: string; running: boolean }[]>;
}
