/**
 * Simulated Intel DCAP collateral for simulated quotes: TCB Info (TDX, v3) and QE Identity
 * (TD_QE) in Intel's JSON layout ("SGX and TDX PCS API" v4), signed by the SIMULATED TCB
 * Signing key under the simulated root, with empty simulated CRLs. A simulated node serves
 * it beside its report exactly as a hardware node serves Intel's, so the verifier's full
 * DCAP path (signatures, windows, CRLs, QE identity, TCB level) runs in tests. The
 * verifier marks the outcome simulated; it proves nothing.
 */
import { toHex, utf8 } from "../../util/bytes.js";
import type { Collateral } from "../intel/collateral.js";
import { INTEL_TD_QE_ISVPRODID, INTEL_TD_QE_MRSIGNER } from "../intel/qe-pin.js";
import {
  SIMULATED_FMSPC,
  SIMULATED_PCK_CRL_HEX,
  SIMULATED_PCK_PCESVN,
  SIMULATED_PCK_SGX_COMPONENTS,
  SIMULATED_ROOT_CA_CRL_HEX,
  SIMULATED_TCB_SIGNING_CERT_PEM,
  SIMULATED_TCB_SIGNING_KEY_PEM,
} from "./collateral-roots.js";
import { SIMULATED_PCK_CA_CERT_PEM, SIMULATED_ROOT_CERT_PEM } from "./roots.js";
import { privateKeyFromPem, signRaw } from "./sign.js";

/** TEE_TCB_SVN the simulated quote carries (quote.ts): minor 1, major 0. */
const SIMULATED_TEE_TCB_SVN = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

export interface SimulatedCollateralOptions {
  /** The TCB status the single TCB level rates the simulated platform (default UpToDate). */
  readonly tcbStatus?: string;
  /** issueDate; nextUpdate is 30 days later (default now). */
  readonly now?: Date;
  /** Tests: edit the TCB Info / QE Identity objects before they are signed. */
  readonly edit?: { readonly tcbInfo?: (o: Record<string, unknown>) => Record<string, unknown>; readonly qeIdentity?: (o: Record<string, unknown>) => Record<string, unknown> };
}

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z");

function sign(text: string): string {
  return toHex(signRaw(privateKeyFromPem(SIMULATED_TCB_SIGNING_KEY_PEM), "sha256", utf8.encode(text)));
}

export function buildSimulatedCollateral(opts: SimulatedCollateralOptions = {}): Collateral {
  const now = opts.now ?? new Date();
  const issueDate = iso(new Date(now.getTime() - 60_000));
  const nextUpdate = iso(new Date(now.getTime() + 30 * 86_400_000));
  const tcbStatus = opts.tcbStatus ?? "UpToDate";
  const editTcb = opts.edit?.tcbInfo ?? ((o: Record<string, unknown>) => o);
  const editQe = opts.edit?.qeIdentity ?? ((o: Record<string, unknown>) => o);
  const tcbInfo = JSON.stringify(editTcb({
    id: "TDX",
    version: 3,
    issueDate,
    nextUpdate,
    fmspc: SIMULATED_FMSPC,
    pceId: "0000",
    tcbType: 0,
    tcbEvaluationDataNumber: 1,
    // The simulated TD report's MRSIGNERSEAM and SEAMATTRIBUTES are zero (quote.ts).
    tdxModule: { mrsigner: "00".repeat(48), attributes: "0000000000000000", attributesMask: "FFFFFFFFFFFFFFFF" },
    tcbLevels: [
      {
        tcb: {
          sgxtcbcomponents: SIMULATED_PCK_SGX_COMPONENTS.map((svn) => ({ svn })),
          pcesvn: SIMULATED_PCK_PCESVN,
          tdxtcbcomponents: SIMULATED_TEE_TCB_SVN.map((svn) => ({ svn })),
        },
        tcbDate: "2025-01-01T00:00:00Z",
        tcbStatus,
        ...(tcbStatus === "UpToDate" ? {} : { advisoryIDs: ["SIMULATED-SA-00001"] }),
      },
    ],
  }));
  const qeIdentity = JSON.stringify(editQe({
    id: "TD_QE",
    version: 2,
    issueDate,
    nextUpdate,
    tcbEvaluationDataNumber: 1,
    miscselect: "00000000",
    miscselectMask: "FFFFFFFF",
    attributes: "00000000000000000000000000000000",
    attributesMask: "FBFFFFFFFFFFFFFF0000000000000000",
    mrsigner: INTEL_TD_QE_MRSIGNER.toUpperCase(),
    isvprodid: INTEL_TD_QE_ISVPRODID,
    tcbLevels: [{ tcb: { isvsvn: 0 }, tcbDate: "2025-01-01T00:00:00Z", tcbStatus: "UpToDate" }],
  }));
  const signingChain = SIMULATED_TCB_SIGNING_CERT_PEM + SIMULATED_ROOT_CERT_PEM;
  return {
    tcb_info: tcbInfo,
    tcb_info_signature: sign(tcbInfo),
    tcb_info_issuer_chain: signingChain,
    qe_identity: qeIdentity,
    qe_identity_signature: sign(qeIdentity),
    qe_identity_issuer_chain: signingChain,
    pck_crl: SIMULATED_PCK_CRL_HEX,
    root_ca_crl: SIMULATED_ROOT_CA_CRL_HEX,
    pck_crl_issuer_chain: SIMULATED_PCK_CA_CERT_PEM + SIMULATED_ROOT_CERT_PEM,
  };
}
