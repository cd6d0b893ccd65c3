/**
 * Intel's PCS answers `{"tcbInfo":{...},"signature":"..."}`; the signature covers the
 * exact bytes of the tcbInfo value as sent. JSON.parse + stringify could reorder or
 * reformat them, so we cut the value's text out of the response verbatim.
 */
import { AttestationError } from "../../errors.js";
import { AttestCode } from "../codes.js";

/** The raw text of the value of `key` in the top-level object of `text`. */
export function topLevelRaw(text: string, key: string): string {
  let depth = 0;
  let i = 0;
  const n = text.length;
  const fail = (): never => {
    throw new AttestationError(AttestCode.COLLATERAL_INVALID, `no top-level "${key}" in the PCS response`);
  };
  const skipString = (from: number): number => {
    let j = from + 1;
    while (j < n && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
    if (j >= n) fail();
    return j + 1;
  };
  while (i < n) {
    const c = text[i];
    if (c === '"') {
      const end = skipString(i);
      if (depth === 1 && JSON.parse(text.slice(i, end)) === key) {
        let j = end;
        while (j < n && /\s/.test(text[j] ?? "")) j++;
        if (text[j] !== ":") fail();
        j++;
        while (j < n && /\s/.test(text[j] ?? "")) j++;
        return text.slice(j, valueEnd(j));
      }
      i = end;
      continue;
    }
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    i++;
  }
  return fail();

  function valueEnd(start: number): number {
    let d = 0;
    let j = start;
    while (j < n) {
      const c = text[j];
      if (c === '"') {
        j = skipString(j);
        if (d === 0) return j;
        continue;
      }
      if (c === "{" || c === "[") d++;
      else if (c === "}" || c === "]") {
        if (d === 0) return j;
        d--;
        if (d === 0) return j + 1;
      } else if (d === 0 && c === ",") return j;
      j++;
    }
    return fail();
  }
}
