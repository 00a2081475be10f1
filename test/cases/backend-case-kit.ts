/**
 * What every table of backend config cases shares: the folder their config
 * files sit in, the shape of a case, and the reasons a JSON Schema cannot
 * check some rules. The tables are src/backends/<type>/config-cases.ts and
 * test/cases/backend-cases.ts.
 */

/** The folder every case's config file sits in. */
export const CASE_TREE = {
  'data/': '',
  'sandbox/': '',
  'docker/Dockerfile': 'FROM scratch\n',
  Dockerfile: 'FROM scratch\n',
  'image.sif': 'not really an image',
  'model.def': 'Bootstrap: docker\nFrom: ubuntu:22.04\n',
  'notes.txt': 'a file, not a folder',
};

export interface BackendCase {
  name: string;
  yaml: string;
  /** Omitted: the config is valid. */
  error?: { path: string; message: string | RegExp };
  /** Why a JSON Schema cannot express this rule, for cases that fail only in modelrun. */
  schemaCannot?: string;
}

export const PATH_EXISTS = 'a JSON Schema cannot check that a path exists';
export const DURATION_BOUNDS =
  'a JSON Schema pattern cannot bound the seconds a duration string adds up to';
export const SIZE_BOUNDS = 'a JSON Schema pattern cannot bound the bytes a size string adds up to';
export const COMPARES_FIELDS = 'a JSON Schema cannot compare the values of two fields';
export const IMAGE_KIND =
  'a JSON Schema cannot tell a local image path from a remote reference with another scheme';

/** A `${VAR}` takes its value when the file is read, in the environment of that moment. */
export const ENVIRONMENT = 'a JSON Schema cannot know the environment a file is read in';

/** Rules that need the byte count of text (MAX_ARG_STRLEN, ARG_MAX), which a JSON Schema cannot take. */
export const EXEC_BYTES =
  'a JSON Schema cannot count the bytes the system takes to start a program';
export const KIB = (n: number) => 'x'.repeat(n * 1024);
export const ONE_ARG = /over the 131072 bytes \(128 KiB, MAX_ARG_STRLEN\) the system allows one/;
