import { describe, expect, it } from "vitest";
import { marketFileJson, parseMarketFile } from "./market-file.js";

const A = (n: number): string => `0x${n.toString(16).padStart(40, "0")}`;
const base = {
  version: 1, chainId: 31337, rpcUrl: "http://127.0.0.1:8545", deployBlock: "0", simulatedAllowed: true,
  addresses: { policy: A(1), quorum: A(2), registry: A(3), escrow: A(4), agentRequests: A(5), automataAdapter: null, testToken: null },
};

describe("market.json", () => {
  it("reads a market file written before the ModelRegistry and the DataPool existed", () => {
    const m = parseMarketFile(base);
    expect(m.addresses.dataPool).toBeUndefined();
    expect(m.addresses.modelRegistry).toBeUndefined();
  });

  it("reads and writes back the DataPool address", () => {
    const m = parseMarketFile({ ...base, addresses: { ...base.addresses, modelRegistry: A(6), dataPool: `0x${"AB".repeat(20)}` } });
    expect(m.addresses.dataPool).toBe(`0x${"ab".repeat(20)}`);
    expect(parseMarketFile(JSON.parse(marketFileJson(m))).addresses.dataPool).toBe(`0x${"ab".repeat(20)}`);
  });

  it("still refuses unknown or malformed addresses", () => {
    expect(() => parseMarketFile({ ...base, addresses: { ...base.addresses, dataPol: A(7) } })).toThrow(expect.objectContaining({ code: "MARKET_FILE_INVALID" }));
    expect(() => parseMarketFile({ ...base, addresses: { ...base.addresses, dataPool: "0x1234" } })).toThrow(expect.objectContaining({ code: "MARKET_FILE_INVALID" }));
  });
});
