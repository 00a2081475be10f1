import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PACKAGE_ROOT } from '../package-info.js';
import { schemaReference } from '../schema/schema-reference.js';

/**
 * The starter project `modelrun init` writes. The files are real files in
 * the package's starter/ folder, so they can be run and edited as they
 * are; this list says which, in the order init names them.
 */
export const STARTER_DIR = join(PACKAGE_ROOT, 'starter');

export interface StarterFile {
  /** The name in starter/. */
  from: string;
  /** The name in the new project. */
  to: string;
  /** The schema the file's yaml-language-server modeline names, if it has one. */
  schema?: SchemaKind;
}

type SchemaKind = 'model' | 'local';

export const STARTER_FILES: readonly StarterFile[] = [
  { from: 'README.md', to: 'README.md' },
  { from: 'model.yml', to: 'model.yml', schema: 'model' },
  { from: 'local.yml', to: 'local.yml', schema: 'local' },
  // npm leaves every .gitignore out of a package, so it ships under another name.
  { from: 'gitignore', to: '.gitignore' },
  { from: 'template/input.txt', to: 'template/input.txt' },
  { from: 'template/model.sh', to: 'template/model.sh' },
];

/** The folders the starter files go in, parents first. */
export const STARTER_FOLDERS: readonly string[] = [
  ...new Set(STARTER_FILES.map((file) => dirname(file.to)).filter((folder) => folder !== '.')),
];

const MODELINE = /^# yaml-language-server: \$schema=\S*\n/;

/** The text of a starter file as written to `target`, its modeline pointing at modelrun's schema from there. */
export async function starterText(file: StarterFile, target: string): Promise<string> {
  const text = await readFile(join(STARTER_DIR, file.from), 'utf8');
  if (file.schema === undefined) return text;
  const modeline = `# yaml-language-server: $schema=${schemaReference(file.schema, target)}\n`;
  if (!MODELINE.test(text)) throw new Error(`starter/${file.from} does not start with a modeline`);
  return text.replace(MODELINE, modeline);
}
