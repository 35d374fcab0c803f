import { squallError } from '../common/errors';

/**
 * Splits `topology.worker.childopts` into node arguments the way a POSIX shell splits words, but
 * without a shell: no variables, globs or command substitution. Single quotes keep everything,
 * double quotes allow `\"` and `\\`, a backslash outside quotes escapes the next character.
 * Unbalanced quotes fail with ERR_CONFIG_INVALID rather than guessing.
 */
export function splitChildopts(opts: string | null | undefined): string[] {
  if (opts === null || opts === undefined) return [];
  const out: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < opts.length; i++) {
    const c = opts[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (opts[i + 1] === '"' || opts[i + 1] === '\\')) word += opts[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= opts.length) throw squallError('ERR_CONFIG_INVALID', 'topology.worker.childopts ends with a lone backslash');
      word += opts[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw squallError('ERR_CONFIG_INVALID', `topology.worker.childopts has an unclosed ${quote} quote`);
  if (inWord) out.push(word);
  return out;
}
