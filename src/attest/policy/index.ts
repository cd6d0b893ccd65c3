export * from "./schema.js";
export * from "./apply.js";
export * from "./sigstore.js";
export * from "./load.js";
