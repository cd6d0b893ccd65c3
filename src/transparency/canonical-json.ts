/** The project's one canonical JSON (src/util/canonical-json.ts), for signed release statements. */
export { canonicalJson } from "../util/canonical-json.js";
