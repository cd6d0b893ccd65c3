export * from "./ccel.js";
export * from "./replay.js";
export * from "./dstack.js";
export * from "./app-identity.js";
export * from "./from-ccel.js";
