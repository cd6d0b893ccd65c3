export * from "./roots.js";
export * from "./quote.js";
export * from "./gpu.js";
export * from "./provider.js";
export * from "./report.js";
