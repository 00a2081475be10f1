import { type ParseResult, parseYaml } from './parse-yaml.js';
import { readSource, type SourceResult } from './read-source.js';

/**
 * The config files of one load, each read and parsed once however many runs
 * are made of it: an ensemble's members are made of the files as they were
 * when the ensemble was checked. A model file edited while the members run
 * gives no later member another model, nor a member a run other than the
 * one its hash for --resume was taken of. Parsed once too: checking a
 * parsed file leaves it as it was (load/layers.ts fileLayer).
 */
export class ReadOnce {
  private readonly files = new Map<string, ReadFile>();

  constructor(private readonly read: (path: string) => SourceResult = readSource) {}

  /** The file at the absolute `path` as it was first read, and parsed when it could be. */
  file(path: string): ReadFile {
    let file = this.files.get(path);
    if (file === undefined) {
      const source = this.read(path);
      file = source.ok ? { source, parsed: parseYaml(source.text) } : { source };
      this.files.set(path, file);
    }
    return file;
  }
}

export interface ReadFile {
  source: SourceResult;
  /** Undefined when the file could not be read. */
  parsed?: ParseResult;
}

/** What loaders read files through: a ReadOnce for a load that reads each file once, else the disk. */
export interface Reading {
  readOnce?: ReadOnce;
}

/** The option that hands `reading`'s ReadOnce on, when there is one. */
export const readingOf = ({ readOnce }: Reading): Reading =>
  readOnce === undefined ? {} : { readOnce };
