import { describe, expect, it } from 'vitest';
import { DEFAULT_DOCKER_HOST, engineAddress, fetchEngineVersion } from './docker-engine.js';

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
    expect(engineAddress({ DOCKER_HOST: 'tcp://docker.internal' })).toMatchObject({
      host: 'docker.internal',
      port: 2375,
    });
  });

  it('names the supported forms for anything else', () => {
    expect(() => engineAddress({ DOCKER_HOST: 'ssh://me@host' })).toThrow(
      /use unix:\/\/\/path\/to\/docker.sock or tcp:\/\/host:port/,
    );
  });
});

describe('fetchEngineVersion', () => {
  it('fails with the reason when nothing listens at the address', async () => {
    await expect(
      fetchEngineVersion(
        { url: 'unix:///nonexistent.sock', socketPath: '/nonexistent.sock' },
        1000,
      ),
    ).rejects.toThrow(/ENOENT/);
  });
});
