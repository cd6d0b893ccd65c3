export * from "./store.js";
export * from "./sqlite.js";
export * from "./api-keys.js";
export * from "./migrations.js";
