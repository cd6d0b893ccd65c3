export * from "./store.js";
export * from "./sqlite.js";
export * from "./api-keys.js";
export * from "./migrations.js";
export * from "./postgres.js";
export * from "./postgres-migrations.js";
export * from "./postgres-select.js";
