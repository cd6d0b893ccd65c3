export * from "./codes.js";
export * from "./types.js";
export * from "./provider.js";
export * from "./report/format.js";
