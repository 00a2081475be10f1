import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  type MessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-jsonrpc/node';
import { REPO_ROOT } from './cli.js';

export interface Diagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  message: string;
}

const SERVER = join(
  REPO_ROOT,
  'node_modules',
  'yaml-language-server',
  'bin',
  'yaml-language-server',
);

/**
 * A real yaml-language-server over stdio, as an editor drives it: the test
 * opens documents and reads the diagnostics the server publishes. Schemas
 * come from each document's modeline, or from `schemas` (schema file → glob
 * patterns), as the `yaml.schemas` setting gives them.
 */
export class YamlLanguageServer {
  private readonly published = new Map<string, Diagnostic[]>();
  private readonly waiting = new Map<string, (d: Diagnostic[]) => void>();

  private constructor(
    private readonly process: ChildProcess,
    private readonly connection: MessageConnection,
  ) {}

  static async start(schemas: Record<string, string[]> = {}): Promise<YamlLanguageServer> {
    const child = spawn(process.execPath, [SERVER, '--stdio'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    if (child.stdout === null || child.stdin === null) throw new Error('no stdio');
    const connection = createMessageConnection(
      new StreamMessageReader(child.stdout),
      new StreamMessageWriter(child.stdin),
    );
    const server = new YamlLanguageServer(child, connection);
    const settings = {
      validate: true,
      hover: true,
      completion: true,
      schemaStore: { enable: false },
      schemas: Object.fromEntries(
        Object.entries(schemas).map(([file, globs]) => [pathToFileURL(file).href, globs]),
      ),
    };
    connection.onRequest('workspace/configuration', (params: { items: { section?: string }[] }) =>
      params.items.map((item) => (item.section === 'yaml' ? settings : null)),
    );
    connection.onRequest('client/registerCapability', () => null);
    connection.onRequest('window/workDoneProgress/create', () => null);
    connection.onNotification(
      'textDocument/publishDiagnostics',
      (params: { uri: string; diagnostics: Diagnostic[] }) => {
        server.published.set(params.uri, params.diagnostics);
        server.waiting.get(params.uri)?.(params.diagnostics);
      },
    );
    connection.listen();
    await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: { workspace: { configuration: true, didChangeConfiguration: {} } },
    });
    await connection.sendNotification('initialized', {});
    await connection.sendNotification('workspace/didChangeConfiguration', {
      settings: { yaml: settings },
    });
    return server;
  }

  /** Opens a document and resolves with the first diagnostics published for it. */
  diagnose(file: string, text: string): Promise<Diagnostic[]> {
    const uri = pathToFileURL(file).href;
    const result = new Promise<Diagnostic[]>((resolve) => {
      this.waiting.set(uri, (diagnostics) => {
        this.waiting.delete(uri);
        resolve(diagnostics);
      });
    });
    void this.connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'yaml', version: 1, text },
    });
    return result;
  }

  async stop(): Promise<void> {
    try {
      await this.connection.sendRequest('shutdown');
      await this.connection.sendNotification('exit');
    } finally {
      this.connection.dispose();
      this.process.kill();
    }
  }
}
