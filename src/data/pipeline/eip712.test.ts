import { describe, expect, it } from "vitest";
import { toHex } from "../../util/bytes.js";
import { hashStruct } from "./eip712.js";

describe("EIP-712 hashing", () => {
  it("matches the domain separator of the EIP's own example (Ether Mail)", () => {
    const domain = hashStruct(
      "EIP712Domain",
      [
        { name: "name", type: "string" },
        { name: "version", type: "string" },
        { name: "chainId", type: "uint256" },
        { name: "verifyingContract", type: "address" },
      ],
      { name: "Ether Mail", version: "1", chainId: 1n, verifyingContract: "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC" },
    );
    expect(toHex(domain)).toBe("f2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f");
  });
});
