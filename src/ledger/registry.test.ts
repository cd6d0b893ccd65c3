import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keccak256, sha256, stringToBytes, concat, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { AutomataDcapAdapter, MeasurementPolicy, NodeRegistry } from "./contracts/artifacts.js";
import { MockAutomataDcap } from "./contracts/test-artifacts.js";
import { deployContract } from "./deploy.js";
import { automataEvidence, signRegistration } from "./sign.js";
import { expectRevert, MEASUREMENTS, OTHER_MEASUREMENTS, startTestMarket, type TestMarket } from "./test-market.js";
import { ZERO_HASH, type EvmAddress, type Hex32, type Registration } from "./typed-data.js";
import { withGasMargin } from "./send-call.js";

let m: TestMarket;
beforeAll(async () => {
  m = await startTestMarket();
});
afterAll(async () => {
  await m?.stop();
});

interface NodeView {
  operator: EvmAddress;
  expiresAt: bigint;
  priceVersion: number;
  payout: EvmAddress;
  endpoint: string;
  measurementsDigest: Hex32;
  simulated: boolean;
}
const node = (enclave: EvmAddress): Promise<NodeView> => m.read<NodeView>(m.addresses.registry, NodeRegistry.abi, "getNode", [enclave]);
const active = (enclave: EvmAddress): Promise<boolean> => m.read<boolean>(m.addresses.registry, NodeRegistry.abi, "isActive", [enclave]);

describe("NodeRegistry admission through the verifier quorum", () => {
  it("admits a node whose statement and 2-of-3 verdict agree, with everything it said bound", async () => {
    const n = await m.registerNode({ endpoint: "https://a.example", latE6: 52_520_000, lonE6: 13_405_000 });
    const v = await node(n.enclave.address);
    expect(v.operator.toLowerCase()).toBe(m.accounts.operator.address.toLowerCase());
    expect(v.endpoint).toBe("https://a.example");
    expect(v.priceVersion).toBe(1);
    expect(v.simulated).toBe(true);
    expect(await active(n.enclave.address)).toBe(true);
    const now = await m.now();
    // The verdict's notAfter is 30 days out: the governed 7-day maximum wins.
    expect(v.expiresAt).toBe(now + 7n * 86400n);
  });

  it("caps expiry at the collateral's next update when that comes first", async () => {
    const now = await m.now();
    const n = await m.registerNode({ verdict: { notAfter: now + 3600n } });
    expect((await node(n.enclave.address)).expiresAt).toBe(now + 3600n);
  });

  it("refuses a verdict signed by only one member (bad attestation)", async () => {
    await expectRevert(m.registerNode({ signers: m.quorumMembers.slice(0, 1) }), "NotEnoughSignatures");
  });

  it("refuses a verdict co-signed by a key outside the quorum", async () => {
    const outsider = privateKeyToAccount(generatePrivateKey());
    await expectRevert(m.registerNode({ signers: [m.quorumMembers[0]!, outsider] }), "NotAMember");
  });

  it("refuses a registration statement signed by a foreign key", async () => {
    const foreign = privateKeyToAccount(generatePrivateKey());
    await expectRevert(m.registerNode({ statementSigner: foreign }), "ForeignSignature");
  });

  it("refuses a verdict about a different enclave key than the statement's", async () => {
    const other = privateKeyToAccount(generatePrivateKey());
    await expectRevert(m.registerNode({ verdict: { enclave: other.address } }), "AttestedKeyMismatch");
  });

  it("refuses an unlisted measurement", async () => {
    await expectRevert(m.registerNode({ verdict: { measurementsDigest: OTHER_MEASUREMENTS } }), "MeasurementNotAllowed");
  });

  it("refuses a TCB status the policy does not list", async () => {
    await expectRevert(m.registerNode({ verdict: { tcbStatus: 4 } }), "MeasurementNotAllowed");
  });

  it("refuses evidence whose collateral already expired", async () => {
    const now = await m.now();
    await expectRevert(m.registerNode({ verdict: { notAfter: now - 1n } }), "EvidenceExpired");
  });

  it("refuses a replayed registration statement", async () => {
    const n = await m.registerNode();
    await expectRevert(m.registerNode({ enclave: n.enclave, nonce: 0n }), "StatementReplayed");
  });

  it("refuses a statement relayed by someone other than the operator it names", async () => {
    await expectRevert(m.registerNode({ operator: m.accounts.operator, ...{} }).then(async (n) => {
      // Re-submitting the operator's statement from another account must fail.
      const reg = { ...n.registration, nonce: 1n };
      const sig = await signRegistration(n.enclave, { chainId: m.chainId, address: m.addresses.registry }, reg);
      await m.send(m.accounts.user, m.addresses.registry, NodeRegistry.abi, "register", [{ ...reg, prices: [...reg.prices] }, sig, m.addresses.quorum, "0x"]);
    }), "NotOperator");
  });

  it("a registry deployed without simulation refuses simulated verdicts", async () => {
    const strict = await startTestMarket({ allowSimulated: false });
    try {
      await expectRevert(strict.registerNode(), "SimulatedNotAllowed");
      const n = await strict.registerNode({ verdict: { simulated: false } });
      expect(await strict.read<boolean>(strict.addresses.registry, NodeRegistry.abi, "isActive", [n.enclave.address])).toBe(true);
    } finally {
      await strict.stop();
    }
  });
});

describe("NodeRegistry life cycle", () => {
  it("expires, and then anyone may invalidate it; a fresh registration refreshes it", async () => {
    const now = await m.now();
    const n = await m.registerNode({ verdict: { notAfter: now + 100n } });
    await expectRevert(m.send(m.accounts.relayer, m.addresses.registry, NodeRegistry.abi, "invalidate", [n.enclave.address]), "StillValid");
    await m.advance(200);
    expect(await active(n.enclave.address)).toBe(false);
    await m.send(m.accounts.relayer, m.addresses.registry, NodeRegistry.abi, "invalidate", [n.enclave.address]);
    expect((await node(n.enclave.address)).expiresAt).toBe(0n);
    await m.registerNode({ enclave: n.enclave });
    expect(await active(n.enclave.address)).toBe(true);
  });

  it("a call is sent with a fifth more gas than its estimate (an estimate is exact only for the block it ran on)", async () => {
    const n = await m.registerNode();
    const tx = await m.client.getTransaction({ hash: n.receipt.transactionHash });
    // The limit is the estimate plus a fifth; what the call used is at most the estimate
    // (on anvil, here, exactly it: nothing to spare without the margin).
    expect(tx.gas >= withGasMargin(n.receipt.gasUsed)).toBe(true);
    expect(tx.gas > n.receipt.gasUsed + n.receipt.gasUsed / 10n).toBe(true);
    expect(withGasMargin(175_377n)).toBe(210_452n);
  });

  it("an update with new prices bumps the price version and keeps the old table readable", async () => {
    const n = await m.registerNode();
    const newPrice = { ...n.registration.prices[0]!, completionPerMTok: 5_000_000n };
    await m.registerNode({ enclave: n.enclave, prices: [newPrice] });
    const v = await node(n.enclave.address);
    expect(v.priceVersion).toBe(2);
    const p1 = await m.read<{ completionPerMTok: bigint }>(m.addresses.registry, NodeRegistry.abi, "priceOf", [n.enclave.address, 1, newPrice.model]);
    const p2 = await m.read<{ completionPerMTok: bigint }>(m.addresses.registry, NodeRegistry.abi, "priceOf", [n.enclave.address, 2, newPrice.model]);
    expect(p1.completionPerMTok).toBe(2_000_000n);
    expect(p2.completionPerMTok).toBe(5_000_000n);
  });

  it("only the operator may leave; removing the measurement revokes at once", async () => {
    const n = await m.registerNode();
    await expectRevert(m.send(m.accounts.user, m.addresses.registry, NodeRegistry.abi, "leave", [n.enclave.address]), "NotOperator");
    await m.send(m.accounts.operator, m.addresses.registry, NodeRegistry.abi, "leave", [n.enclave.address]);
    expect(await active(n.enclave.address)).toBe(false);
    // Operator survives leaving so that stake stays slashable.
    expect((await node(n.enclave.address)).operator.toLowerCase()).toBe(m.accounts.operator.address.toLowerCase());
  });
});

describe("MeasurementPolicy", () => {
  it("timelocks additions and removes immediately", async () => {
    const fresh = keccak256(stringToBytes("image v2"));
    const policy = m.addresses.policy;
    await expectRevert(m.send(m.accounts.user, policy, MeasurementPolicy.abi, "proposeMeasurement", [fresh]), "OwnableUnauthorizedAccount");
    await m.send(m.accounts.deployer, policy, MeasurementPolicy.abi, "proposeMeasurement", [fresh]);
    await expectRevert(m.send(m.accounts.relayer, policy, MeasurementPolicy.abi, "activateMeasurement", [fresh]), "TooEarly");
    await m.advance(3601);
    await m.send(m.accounts.relayer, policy, MeasurementPolicy.abi, "activateMeasurement", [fresh]);
    const n = await m.registerNode({ verdict: { measurementsDigest: fresh } });
    expect(await active(n.enclave.address)).toBe(true);
    await m.send(m.accounts.deployer, policy, MeasurementPolicy.abi, "removeMeasurement", [fresh]);
    expect(await active(n.enclave.address)).toBe(false);
    await m.send(m.accounts.relayer, m.addresses.registry, NodeRegistry.abi, "invalidate", [n.enclave.address]);
    expect(await m.read<boolean>(policy, MeasurementPolicy.abi, "isAllowed", [MEASUREMENTS, 0])).toBe(true);
  });
});

describe("Automata DCAP adapter (against a contract with Automata's ABI)", () => {
  // A TDX v4 quote laid out as Intel's: 48-byte header, then the 584-byte TD10 report body.
  function quoteWith(reportData: Hex32, debug = false): { quote: Hex32; measurements: Hex32 } {
    const body = new Uint8Array(584);
    for (let i = 136; i < 184; i++) body[i] = 0x11; // MRTD
    for (let i = 328; i < 520; i++) body[i] = 0x22; // RTMR0-3
    if (debug) body[120] = 1;
    body.set(Buffer.from(reportData.slice(2), "hex"), 520);
    const header = new Uint8Array(48);
    header[0] = 4;
    const quote = toHex(concat([header, body, new Uint8Array(64)]));
    const measurements = keccak256(toHex(body.slice(136, 184).length ? concat([body.slice(136, 184), body.slice(328, 520)]) : "0x"));
    return { quote, measurements };
  }

  async function setup(): Promise<{ dcap: EvmAddress; adapter: EvmAddress }> {
    const w = m.wallet(m.accounts.deployer);
    const dcap = await deployContract(w, m.client, MockAutomataDcap, []);
    const adapter = await deployContract(w, m.client, AutomataDcapAdapter, [dcap, 86400n]);
    await m.send(m.accounts.deployer, m.addresses.registry, NodeRegistry.abi, "setVerifier", [adapter, true]);
    return { dcap, adapter };
  }

  async function attempt(opts: { approve: boolean; debug?: boolean; wrongSigner?: boolean }): Promise<EvmAddress> {
    const { dcap, adapter } = await setup();
    const enclave = privateKeyToAccount(generatePrivateKey());
    const e2e = keccak256(stringToBytes("e2e key"));
    const empty = sha256("0x");
    const bound = opts.wrongSigner ? privateKeyToAccount(generatePrivateKey()).address : enclave.address;
    // report_data v1 [0:32] (docs/protocol.md), [32:64] the nonce.
    const rd0 = sha256(concat([toHex(stringToBytes("cloister/report-data/v1")), bound, e2e, empty, empty]));
    const { quote, measurements } = quoteWith(rd0, opts.debug);
    if (opts.approve) await m.send(m.accounts.deployer, dcap, MockAutomataDcap.abi, "approve", [quote, 0]);
    await m.send(m.accounts.deployer, m.addresses.policy, MeasurementPolicy.abi, "proposeMeasurement", [measurements]);
    await m.advance(3601);
    await m.send(m.accounts.relayer, m.addresses.policy, MeasurementPolicy.abi, "activateMeasurement", [measurements]);
    const now = await m.now();
    const reg: Registration = {
      enclave: enclave.address,
      operator: m.accounts.operator.address,
      payout: m.accounts.operator.address,
      endpoint: "https://tdx.example",
      region: "us-east",
      latE6: 40_712_800,
      lonE6: -74_006_000,
      attestationDigest: keccak256(quote),
      measurementsDigest: measurements,
      gpuEvidenceDigest: ZERO_HASH,
      prices: [],
      nonce: 0n,
      deadline: now + 600n,
    };
    const sig = await signRegistration(enclave, { chainId: m.chainId, address: m.addresses.registry }, reg);
    const evidence = automataEvidence(quote, enclave.address, e2e, empty, empty);
    await m.send(m.accounts.operator, m.addresses.registry, NodeRegistry.abi, "register", [{ ...reg, prices: [] }, sig, adapter, evidence]);
    return enclave.address;
  }

  it("admits a TDX quote the DCAP verifier accepted, reading measurements and report_data from it", async () => {
    const enclave = await attempt({ approve: true });
    expect(await active(enclave)).toBe(true);
    expect((await node(enclave)).simulated).toBe(false);
  });

  it("refuses a quote the DCAP verifier rejected", async () => {
    await expectRevert(attempt({ approve: false }), "DcapRejected");
  });

  it("refuses a debug TD", async () => {
    await expectRevert(attempt({ approve: true, debug: true }), "DebugTd");
  });

  it("refuses a quote whose report_data binds another key", async () => {
    await expectRevert(attempt({ approve: true, wrongSigner: true }), "ReportDataMismatch");
  });
});


