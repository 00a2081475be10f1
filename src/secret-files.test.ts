import { describe, expect, it } from 'vitest';
import { envFilePath } from './backends/containers/apptainer-env.js';
import { SECRET_FILE_PATHS } from './secret-files.js';

describe('the one list of files that hold secret values', () => {
  it('holds every env file a backend writes', () => {
    const written = [envFilePath].map((path) => path('/run').slice('/run/'.length));
    expect([...written].sort()).toEqual([...SECRET_FILE_PATHS].sort());
  });
});
