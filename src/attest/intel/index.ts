/** Intel SGX/TDX DCAP quotes: parse, verify offline, verify with collateral, fetch collateral. */
export { parseQuote } from "./parse-quote.js";
export { quoteMeasurements } from "./measurements.js";
export type { ParsedQuote, QuoteHeader, QuoteBody, SgxReportBody, TdReportBody, QuoteSignatureData, QeReportCertification } from "./quote-types.js";
export { verifyQuoteSignatures, type QuoteSignatureOptions } from "./verify-signatures.js";
export { verifyDcapQuote, type DcapOptions } from "./verify-dcap.js";
export { CollateralSchema, parseCollateral, loadCollateralFile, type Collateral } from "./collateral.js";
export { fetchCollateral, collateralExpiry, INTEL_PCS_URL, INTEL_ROOT_CRL_URL, type FetchCollateralOptions } from "./fetch-collateral.js";
export { INTEL_SGX_ROOT_CA_PEM, INTEL_SGX_ROOT_CA_SHA256 } from "./intel-root.js";
export { initDcapWasm } from "./dcap-wasm.js";
export { collateralFromPcsResponses, loadPcsResponseDir, type PcsResponses } from "./pcs-responses.js";
export { evaluateTcb, type TcbEvaluation, type LevelStatus } from "./tcb-eval.js";
export { INTEL_TCB_SIGNING_PEMS } from "./tcb-signing-certs.js";
