/**
 * Nesting depth of JSON text, measured on the bytes before anything parses or walks it. A
 * hostile 20 KB payload (`[[[[...]]]]`, 10,000 levels) parses fine, but every recursive walk of
 * the result (JSON.stringify, avsc clone/isValid/encode) then overflows the stack. Counting
 * brackets outside strings is enough: UTF-8 continuation bytes never equal an ASCII bracket or
 * quote, and invalid JSON is rejected by JSON.parse afterwards anyway.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/** True when arrays/objects in `text` nest deeper than `maxDepth`; stops at the first excess. */
export function jsonDepthExceeds(text: Uint8Array, maxDepth: number): boolean {
  // Each level needs at least one opening byte.
  if (text.length <= maxDepth) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === BACKSLASH) i++; // the escaped byte cannot end the string
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return false;
}

/**
 * Path of the first string (or object key) in a parsed JSON value holding an unpaired UTF-16
 * surrogate, or null. JSON accepts `"\ud800"`; Avro strings are UTF-8, where it has no form (it
 * would be silently replaced by U+FFFD). Only call on depth-bounded values: it recurses.
 */
export function loneSurrogatePath(value: unknown, path = '(root)'): string | null {
  if (typeof value === 'string') return isWellFormed(value) ? null : path;
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = loneSurrogatePath(value[i], `${path}[${i}]`);
      if (hit !== null) return hit;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (!isWellFormed(k)) return `${path}.(key)`;
    const hit = loneSurrogatePath(v, path === '(root)' ? k : `${path}.${k}`);
    if (hit !== null) return hit;
  }
  return null;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}
