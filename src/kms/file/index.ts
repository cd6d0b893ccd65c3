export * from "./codes.js";
export * from "./format.js";
export * from "./keys.js";
export * from "./seal.js";
export * from "./open.js";
export type { ByteSource } from "./io.js";
export { bufferSource, fileSource } from "./io.js";
