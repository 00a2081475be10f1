/**
 * Docker's image reference grammar, as the engine parses it
 * (github.com/distribution/reference, regexp.go): an optional registry host
 * and port, lower-case path components joined by `.`, `_`, `__` or dashes,
 * an optional tag and an optional digest. A name the engine would refuse
 * ("invalid reference format") is caught at validation, with its line,
 * instead of at run time. It also keeps `..` and `//` out of the engine's
 * URLs, which the engine answers with a redirect that dockerode follows
 * off to a host named after the image.
 */
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

/** The source of a pattern matching exactly one Docker image reference, for use inside other patterns. */
export const IMAGE_REFERENCE_SOURCE = `${NAME}(?::${TAG})?(?:@${DIGEST})?`;

export const IMAGE_REFERENCE_PATTERN = new RegExp(`^${IMAGE_REFERENCE_SOURCE}$`);

/** The grammar in words, for an editor, which cannot say what is wrong with one value. */
export const IMAGE_REFERENCE_FORM =
  'an image reference is lower-case letters, digits and single . _ - between them, with an optional registry host, :tag and @digest, as in "ubuntu:22.04" or "registry.example.com/team/model:1.2"';

/** What is wrong with a reference the grammar refuses, in words a person can act on. */
export function imageReferenceProblem(reference: string): string {
  const shown = JSON.stringify(reference);
  if (reference === '') return 'the image reference is empty';
  if (reference.startsWith('-'))
    return `${shown} is not an image reference: it starts with "-", as an option would`;
  const name = reference.replace(/@.*$/, '').replace(/:[\w][\w.-]*$/, '');
  const path = name.includes('/') ? name.slice(name.indexOf('/') + 1) : name;
  if (/[A-Z]/.test(path))
    return `${shown} is not an image reference: repository names must be lower case`;
  return `${shown} is not an image reference: use lower-case letters, digits and single . _ - between them, with an optional registry host, :tag and @digest, as in "ubuntu:22.04" or "registry.example.com/team/model:1.2"`;
}
