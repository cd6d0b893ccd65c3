import { CheckList } from "../types.js";
import type { ReportState } from "./result.js";

export function newState(): ReportState {
  return {
    list: new CheckList(),
    tee: "tdx",
    simulated: false,
    tcbStatus: null,
    advisories: [],
    measurements: {},
    reportData: null,
    appIdentity: null,
    signingAddress: null,
    signingAlgo: null,
    signingPublicKey: null,
    e2ePublicKey: null,
  };
}
