import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { makeTree } from '../../../test/helpers/tree.js';
import { EngineUnavailableError } from '../../errors.js';
import { connectDockerode } from '../docker/dockerode-connect.js';
import { engineAddress, fetchEngineVersion } from './docker-engine-api.js';
import { DEFAULT_DOCKER_HOST } from './docker-host.js';

/** Stand-ins for the three files of a TLS engine; only their bytes matter here. */
const TLS_FILES = { 'ca.pem': 'the CA\n', 'cert.pem': 'the client cert\n', 'key.pem': 'the key\n' };
const withPrefix = (prefix: string, files: Record<string, string>) =>
  Object.fromEntries(Object.entries(files).map(([name, text]) => [`${prefix}${name}`, text]));

describe('engineAddress', () => {
  it('prefers DOCKER_HOST over the config, and the config over the default', () => {
    expect(
      engineAddress({ DOCKER_HOST: 'unix:///run/a.sock' }, 'unix:///run/b.sock').socketPath,
    ).toBe('/run/a.sock');
    expect(engineAddress({}, 'unix:///run/b.sock').socketPath).toBe('/run/b.sock');
    expect(engineAddress({}).url).toBe(DEFAULT_DOCKER_HOST);
  });

  it('reads tcp addresses, with the plain and TLS default ports', () => {
    expect(engineAddress({ DOCKER_HOST: 'tcp://10.0.0.5:2375' })).toMatchObject({
      host: '10.0.0.5',
      port: 2375,
    });
    const plain = engineAddress({ DOCKER_HOST: 'tcp://docker.internal' });
    expect(plain).toMatchObject({ host: 'docker.internal', port: 2375 });
    expect(plain.tls).toBeUndefined();
    const certs = makeTree(TLS_FILES);
    try {
      const env = { DOCKER_CERT_PATH: certs.root };
      for (const tls of [
        { ...env, DOCKER_HOST: 'tcp://docker.internal', DOCKER_TLS_VERIFY: '1' },
        { ...env, DOCKER_HOST: 'https://docker.internal' },
      ])
        expect(engineAddress(tls)).toMatchObject({ host: 'docker.internal', port: 2376 });
    } finally {
      certs.remove();
    }
  });

  it('hands the engine client the TLS files of DOCKER_CERT_PATH, or of ~/.docker', () => {
    const tree = makeTree(withPrefix('home/.docker/', TLS_FILES));
    try {
      for (const fromEnv of [false, true]) {
        if (fromEnv)
          for (const [name, text] of Object.entries(TLS_FILES))
            tree.write(`certs/${name}`, `${text}from the env\n`);
        const address = engineAddress({
          DOCKER_HOST: 'tcp://docker.internal:2376',
          DOCKER_TLS_VERIFY: '1',
          HOME: tree.path('home'),
          ...(fromEnv ? { DOCKER_CERT_PATH: tree.path('certs') } : {}),
        });
        const read = (name: string) =>
          readFileSync(tree.path(fromEnv ? 'certs' : 'home/.docker', name));
        const files = { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
        expect(address.tls).toEqual(files);
        // What dockerode is given: https, with those files.
        expect(connectDockerode(address).modem).toMatchObject({
          protocol: 'https',
          host: 'docker.internal',
          port: 2376,
          ...files,
        });
      }
    } finally {
      tree.remove();
    }
  });

  it('reads unix:// alone as the default socket, as the docker CLI does', () => {
    expect(engineAddress({ DOCKER_HOST: 'unix://' })).toEqual({
      url: DEFAULT_DOCKER_HOST,
      socketPath: '/var/run/docker.sock',
    });
  });

  it('reads a bracketed IPv6 host without its brackets', () => {
    expect(engineAddress({ DOCKER_HOST: 'tcp://[::1]:2375' })).toMatchObject({
      host: '::1',
      port: 2375,
    });
  });

  it.each([
    ['ssh://me@host', /"ssh:\/\/me@host" is an ssh:\/\/ engine/, /ssh -nNT -L/],
    ['npipe:////./pipe/docker_engine', /Windows named pipe/, /unix:\/\//],
    ['garbage', /"garbage" is not an address modelrun can use/, /tcp:\/\/host:port/],
    ['fd://', /is not an address modelrun can use/, /unset DOCKER_HOST/],
    ['tcp://', /"tcp:\/\/" is not a valid address/, /tcp:\/\/host:port/],
    ['tcp://127.0.0.1:99999', /is not a valid address/, /tcp:\/\/host:port/],
    ['http://[::1', /is not a valid address/, /tcp:\/\/host:port/],
  ])(
    'fails for DOCKER_HOST %s as engine unavailable, saying what to use',
    (host, message, hint) => {
      let thrown: unknown;
      try {
        engineAddress({ DOCKER_HOST: host });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(EngineUnavailableError);
      expect((thrown as Error).message).toMatch(/^DOCKER_HOST "/);
      expect((thrown as Error).message).toMatch(message);
      expect((thrown as EngineUnavailableError).hint).toMatch(hint);
    },
  );

  it('names docker_host when the address came from the config', () => {
    expect(() => engineAddress({}, 'ssh://me@host')).toThrow(/^docker_host "ssh:\/\/me@host"/);
  });

  it('fails as engine unavailable, naming the file, when TLS is asked for without its files', () => {
    let thrown: unknown;
    try {
      engineAddress({
        DOCKER_HOST: 'tcp://127.0.0.1:2376',
        DOCKER_TLS_VERIFY: '1',
        DOCKER_CERT_PATH: '/nonexistent/certs',
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EngineUnavailableError);
    expect((thrown as Error).message).toMatch(/\/nonexistent\/certs\/ca.pem cannot be read/);
    expect((thrown as EngineUnavailableError).hint).toMatch(/DOCKER_CERT_PATH/);
  });
});

/** An HTTP server on 127.0.0.1 that answers every request with `headers` and `body`; its address. */
async function answering(headers: Record<string, string>, body: string) {
  const server = createServer((_request, response) => {
    for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: { url: `tcp://127.0.0.1:${port}`, host: '127.0.0.1', port },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe('fetchEngineVersion', () => {
  it.each([
    ['Docker/27.3.1 (linux)', '27.3.1'],
    ['Libpod/5.2.0 (linux)', 'Libpod/5.2.0 (linux)'],
  ])('reads the version from the ping answer of %s', async (server, version) => {
    const engine = await answering({ 'Api-Version': '1.47', Server: server }, 'OK');
    try {
      await expect(fetchEngineVersion(engine.address, 1000)).resolves.toEqual({
        version,
        apiVersion: '1.47',
      });
    } finally {
      await engine.close();
    }
  });

  it.each([
    [{ Server: 'nginx' }, 'no Api-Version'],
    [{ 'Api-Version': 'banana' }, 'an Api-Version of "banana"'],
  ])(
    'says that a server which answers a ping with %j is not a Docker engine',
    async (headers, what) => {
      const web = await answering(headers, '<html>OK</html>');
      try {
        await expect(fetchEngineVersion(web.address, 1000)).rejects.toThrow(
          `did not answer as a Docker engine does (${what}); is DOCKER_HOST pointing at a Docker engine?`,
        );
      } finally {
        await web.close();
      }
    },
  );

  it('fails with the reason when nothing listens at the address', async () => {
    await expect(
      fetchEngineVersion(
        { url: 'unix:///nonexistent.sock', socketPath: '/nonexistent.sock' },
        1000,
      ),
    ).rejects.toThrow(/ENOENT/);
  });
});
