export * from "./configfs-tsm.js";
export * from "./dstack.js";
export * from "./select.js";
export * from "./snp-certs.js";
