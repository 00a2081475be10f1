import { PassThrough } from 'node:stream';
import type { ContainerSpec } from '../../src/backends/containers/engine-spec.js';
import type {
  BuildOptions,
  ContainerState,
  ContextStream,
  DockerEngine,
  EngineContainer,
  OutOfMemoryWatch,
  ProgressMessage,
} from '../../src/backends/docker/client.js';

/** One frame of the engine's multiplexed attach stream: 1 for stdout, 2 for stderr. */
export function frame(stream: 1 | 2, payload: string): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** What the model in a fake container does once started. */
export interface FakeModel {
  /** Multiplexed chunks written to the attach stream at start. */
  output?: Buffer[];
  /** Exit with this code right after the output; by default the model runs until stopped. */
  exitCode?: number;
  /** Report the exit as the kernel's OOM kill: in State.OOMKilled and by an event. */
  oomKilled?: boolean;
  /**
   * An OOM kill whose report lost the race with the exit, as happens under
   * load: OOMKilled stays false, and the event comes this many ms after the exit.
   */
  lateOomReportMs?: number;
  /** The model ignores SIGTERM: a stop ends it with the engine's SIGKILL (137). */
  ignoresTerm?: boolean;
  /** start() fails with this, as the engine does for a bad mount or command. */
  startError?: Error;
  /** attach() fails with this, as when the engine drops the connection. */
  attachError?: Error;
}

export interface FakeDockerOptions {
  address?: string;
  /** version() rejects with this: no engine there. */
  unreachable?: Error;
  /** imageExists() rejects with this, as the engine does for a name it refuses. */
  lookupError?: Error;
  /** Images already on the engine. */
  images?: string[];
  /** The messages of a pull's progress stream; the image is there afterwards unless one is an error. */
  pullMessages?: ProgressMessage[];
  model?: FakeModel;
}

/**
 * A Docker engine in memory, behind our own DockerEngine interface. It
 * keeps the order of every call in `calls`, and it is as unforgiving as the
 * real one where that matters: a wait registered after the container has
 * exited never resolves, and a removed container is gone.
 */
export class FakeDocker implements DockerEngine {
  readonly address: string;
  readonly calls: string[] = [];
  readonly images: Set<string>;
  readonly containers: FakeContainer[] = [];
  readonly specs: { name: string; spec: ContainerSpec }[] = [];

  constructor(private readonly options: FakeDockerOptions = {}) {
    this.address = options.address ?? 'unix:///var/run/docker.sock';
    this.images = new Set(options.images ?? []);
  }

  async version() {
    this.calls.push('version');
    if (this.options.unreachable !== undefined) throw this.options.unreachable;
    return { version: '27.3.1', apiVersion: '1.47' };
  }

  async imageExists(reference: string) {
    this.calls.push(`imageExists ${reference}`);
    if (this.options.lookupError !== undefined) throw this.options.lookupError;
    return this.images.has(reference);
  }

  async pull(reference: string, _signal: AbortSignal): Promise<AsyncIterable<ProgressMessage>> {
    this.calls.push(`pull ${reference}`);
    const messages = this.options.pullMessages ?? [
      { status: `Pulling from library/${reference}` },
      { status: `Status: Downloaded newer image for ${reference}` },
    ];
    const images = this.images;
    return (async function* () {
      for (const message of messages) {
        // One tick per message, as a stream read from a socket gives them.
        await new Promise((resolve) => setImmediate(resolve));
        yield message;
      }
      if (!messages.some((m) => m.error !== undefined || m.errorDetail !== undefined))
        images.add(reference);
    })();
  }

  async build(
    _context: ContextStream,
    options: BuildOptions,
    _signal: AbortSignal,
  ): Promise<AsyncIterable<ProgressMessage>> {
    this.calls.push(`build ${options.tag}`);
    this.images.add(options.tag);
    return (async function* () {})();
  }

  async createContainer(name: string, spec: ContainerSpec): Promise<EngineContainer> {
    this.calls.push(`create ${name}`);
    this.specs.push({ name, spec });
    const container = new FakeContainer(
      `${(this.containers.length + 1).toString(16).padStart(4, '0')}${'3f2a'.repeat(15)}`,
      this.calls,
      this.options.model ?? {},
    );
    this.containers.push(container);
    return container;
  }

  async listContainers(_labels: Record<string, string>) {
    return this.containers.filter((c) => !c.removed).map((c) => ({ id: c.id, running: c.running }));
  }
}

export class FakeContainer implements EngineContainer {
  running = false;
  removed = false;
  watchClosed = false;
  private oomReported = false;
  private exitCode = 0;
  private readonly stream = new PassThrough();
  private readonly waiters: ((status: { exitCode: number }) => void)[] = [];

  constructor(
    readonly id: string,
    private readonly calls: string[],
    private readonly model: FakeModel,
  ) {}

  async attach(): Promise<NodeJS.ReadableStream> {
    this.calls.push('attach');
    if (this.model.attachError !== undefined) throw this.model.attachError;
    return this.stream;
  }

  async waitForExit() {
    this.calls.push('waitForExit');
    // condition=next-exit: an exit that already happened is not waited for.
    return { exited: new Promise<{ exitCode: number }>((resolve) => this.waiters.push(resolve)) };
  }

  async watchOutOfMemory(): Promise<OutOfMemoryWatch> {
    this.calls.push('watchOutOfMemory');
    return {
      seen: async (ms) => {
        const deadline = Date.now() + ms;
        while (!this.oomReported && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 5));
        return this.oomReported;
      },
      close: () => {
        this.watchClosed = true;
      },
    };
  }

  async start() {
    this.calls.push('start');
    if (this.removed) throw new Error(`No such container: ${this.id}`);
    if (this.model.startError !== undefined) throw this.model.startError;
    this.running = true;
    setImmediate(() => {
      for (const chunk of this.model.output ?? []) this.stream.write(chunk);
      if (this.model.exitCode !== undefined) this.exit(this.model.exitCode);
    });
  }

  async stop(graceSeconds: number) {
    this.calls.push(`stop ${graceSeconds}`);
    // The model takes SIGTERM and ends within the grace time, or is killed after it.
    if (this.running) setImmediate(() => this.exit(this.model.ignoresTerm ? 137 : 143));
  }

  async kill() {
    this.calls.push('kill');
    if (this.running) setImmediate(() => this.exit(137));
  }

  async state(): Promise<ContainerState> {
    this.calls.push('state');
    if (this.removed) throw new Error(`No such container: ${this.id}`);
    return {
      running: this.running,
      exitCode: this.exitCode,
      oomKilled: !this.running && this.model.oomKilled === true,
    };
  }

  async remove() {
    this.calls.push('remove');
    if (this.running) this.exit(137);
    this.removed = true;
  }

  /** The model ends: its output stream closes and every registered wait hears the code. */
  exit(code: number): void {
    if (!this.running) return;
    this.running = false;
    this.exitCode = code;
    this.stream.end();
    if (this.model.oomKilled) this.oomReported = true;
    const late = this.model.lateOomReportMs;
    if (late !== undefined)
      setTimeout(() => {
        this.oomReported = true;
      }, late);
    for (const resolve of this.waiters.splice(0)) resolve({ exitCode: code });
  }
}
