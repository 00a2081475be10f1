import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/**
 * Keywords modelrun's schemas carry for editors, which a validator ignores:
 * yaml-language-server's messages. ajv in strict mode refuses unknown
 * keywords unless they are declared.
 */
export const EDITOR_KEYWORDS = ['errorMessage', 'patternErrorMessage'];

/**
 * ajv as a strict user would set it up for draft 2020-12, with formats
 * checked: every strict check on (strictTypes, strictRequired, no union
 * types), only the editors' keywords declared, as the README says.
 */
export function strictAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
  ajv.addVocabulary(EDITOR_KEYWORDS);
  return ajv;
}
