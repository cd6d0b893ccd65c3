/**
 * The console (issue 14) in headless Debian Chromium against real local nodes: one
 * browser for the whole file. Verify is green for a node the visitor's policy accepts,
 * red with the right sentence when a proxy tampers with the report, and shows the
 * SIMULATED banner; chat works end to end and a recording proxy never sees the prompt;
 * the market map lists two nodes registered on a real local chain (src/ledger), each
 * verified by the browser. Every page gets a screenshot (test-output/console, not
 * committed) and an axe-core check with no serious or critical violation. Skipped,
 * loudly, without /usr/bin/chromium or playwright-core.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEvmChain } from "../../src/ledger/evm-chain.js";
import { startTestMarket, type TestMarket } from "../../src/ledger/test-market.js";
import { modelId } from "../../src/ledger/typed-data.js";
import { CONSOLE_CSP } from "../../src/gateway/handlers/console.js";
import { ANSWER, startRecordingProxy, type RecordingProxy } from "./client-fixtures.js";
import { Hub } from "../../src/agents/hub/hub.js";
import { openHubStore } from "../../src/agents/hub/store.js";
import { AXE_SOURCE, CHROMIUM, CHROMIUM_ARGS, chromiumReady, ensureConsoleBuilt, publishExampleAgent, screenshotPath, startConsoleNode, startDiscovery, type ConsoleNode } from "./console-fixtures.js";

if (!chromiumReady) console.warn(`console e2e: SKIPPING every browser test (${CHROMIUM} or playwright-core missing)`);

const ACCEPT = "accept=simulated,tcb";
const PROMPT = "Console secret: my locker combination is 31-07-2049 zebra";

describe.skipIf(!chromiumReady)("the console in headless Chromium against real local nodes", () => {
  let browser: Browser;
  let context: BrowserContext;
  let node: ConsoleNode;
  let proxy: RecordingProxy;
  let market: TestMarket;
  let remotes: ConsoleNode[] = [];
  let discovery: { url: string; close(): Promise<void> };
  let hubStore: ReturnType<typeof openHubStore>;
  const cspViolations: string[] = [];

  beforeAll(async () => {
    ensureConsoleBuilt();
    hubStore = openHubStore();
    const hub = new Hub(hubStore);
    await publishExampleAgent(hub);
    node = await startConsoleNode({ agents: { hub } });
    proxy = await startRecordingProxy(node.url);
    // Two market nodes on other origins: they allow the console's origin (CORS), as an operator would.
    // The second has (simulated) GPU evidence: the browser checks its SPDM chain and signature too.
    remotes = [await startConsoleNode({ corsOrigins: [node.url], consoleDir: null }), await startConsoleNode({ corsOrigins: [node.url], consoleDir: null, gpu: true })];
    market = await startTestMarket();
    const places = [
      { latE6: 52_520_000, lonE6: 13_405_000 },
      { latE6: 35_676_000, lonE6: 139_650_000 },
    ];
    for (const [i, r] of remotes.entries()) await market.registerNode({ enclave: r.enclave, endpoint: r.url, ...places[i], prices: [{ model: modelId("fake"), promptPerMTok: 250_000_000_000_000_000n, completionPerMTok: 1_000_000n }] });
    discovery = await startDiscovery(createEvmChain({ rpcUrl: market.anvil.rpcUrl, chainId: market.chainId, addresses: market.addresses }));
    const pwName = "playwright-core";
    const pw = (await import(pwName)) as typeof import("playwright-core");
    browser = await pw.chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([node?.close(), proxy?.close(), discovery?.close(), market?.stop(), ...remotes.map((r) => r.close())]);
    hubStore?.close();
  });

  async function open(url: string): Promise<Page> {
    const page = await context.newPage();
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    await page.goto(url);
    return page;
  }

  async function axeSerious(page: Page): Promise<string[]> {
    await page.evaluate(AXE_SOURCE());
    const violations = (await page.evaluate(`axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })))`)) as { id: string; impact: string; nodes: number }[];
    return violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id} (${v.impact}, ${v.nodes} nodes)`);
  }

  it("axe-core (what we rely on from it): an unlabeled input is reported as a critical violation", async () => {
    const page = await context.newPage();
    await page.setContent("<!doctype html><html lang=en><title>t</title><main><input type=text></main></html>");
    expect((await axeSerious(page)).some((v) => v.startsWith("label (critical"))).toBe(true);
    await page.close();
  });

  it("is served by the node at /console with the strict CSP, and the page loads nothing inline", async () => {
    const res = await fetch(`${node.url}/console/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\bstyle=|\bon[a-z]+=/);
    expect((await fetch(`${node.url}/console/../package.json`)).status).toBe(404);
  });

  it("verify: green, with the SIMULATED banner, for the simulator when the visitor accepts it; a signed record re-verifies", async () => {
    const page = await open(`${node.url}/console/#/verify?${ACCEPT}`);
    const verdict = page.getByTestId("verdict");
    await verdict.waitFor();
    expect(await verdict.getAttribute("class")).toContain("verdict-ok");
    expect(await verdict.innerText()).toContain("Verified by your browser");
    expect(await page.getByTestId("simulated-banner").isVisible()).toBe(true);
    expect(await page.locator('[data-check="report_data binding (v1)"]').innerText()).toContain("only this machine can read your prompts");
    expect(await page.locator('[data-check="quote signature"].check-pass').count()).toBe(1);
    // Raw evidence one click away: the report as received, with our nonce in it.
    await page.getByText("Raw evidence").click();
    expect(await page.getByTestId("raw-report").innerText()).toContain('"version": "cloister/attestation/v1"');
    await page.screenshot({ path: screenshotPath("verify-simulator-accepted"), fullPage: true });
    expect(await axeSerious(page)).toEqual([]);

    await page.getByTestId("record-link").click();
    const rv = page.getByTestId("record-verdict");
    await rv.waitFor();
    expect(await rv.getAttribute("class")).toContain("verdict-ok");
    await page.screenshot({ path: screenshotPath("record"), fullPage: true });
    expect(await axeSerious(page)).toEqual([]);

    // The same page on a phone.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const p2 = await phone.newPage();
    await p2.goto(`${node.url}/console/#/verify?${ACCEPT}`);
    await p2.getByTestId("verdict").waitFor();
    expect(await p2.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")).toBe(true);
    await p2.screenshot({ path: screenshotPath("verify-phone"), fullPage: true });
    await phone.close();
    await page.close();
  });

  it("verify: red for the simulator under the default (strict) policy, banner still shown", async () => {
    const page = await open(`${node.url}/console/#/verify`);
    const verdict = page.getByTestId("verdict");
    await verdict.waitFor();
    expect(await verdict.getAttribute("class")).toContain("verdict-bad");
    expect(await page.getByTestId("simulated-banner").isVisible()).toBe(true);
    expect(await page.locator('[data-check="not simulated"].check-fail').innerText()).toContain("This report comes from the Cloister SIMULATOR: it proves nothing");
    // Ticking the box is a visible decision, and it re-verifies.
    await page.getByLabel("Accept the simulator").check();
    await page.getByLabel("Accept that the processor's patch level").check();
    await page.locator(".verdict-ok").waitFor();
    await page.close();
  });

  it("verify: red with the right sentence when a proxy swaps the node's E2E key in the report", async () => {
    proxy.tamper = {
      responseBody: (path, body) => {
        if (!path.startsWith("/v1/attestation/report")) return undefined;
        const r = JSON.parse(body.toString("utf8")) as { e2e_public_key: string };
        r.e2e_public_key = r.e2e_public_key.replace(/^(0x)?(.)/, (_m, p: string | undefined, c: string) => `${p ?? ""}${c === "0" ? "1" : "0"}`);
        return Buffer.from(JSON.stringify(r));
      },
    };
    try {
      const page = await open(`${proxy.url}/console/#/verify?${ACCEPT}`);
      const verdict = page.getByTestId("verdict");
      await verdict.waitFor();
      expect(await verdict.getAttribute("class")).toContain("verdict-bad");
      const line = page.locator('[data-check="report_data binding (v1)"]');
      expect(await line.getAttribute("class")).toContain("check-fail");
      expect(await line.innerText()).toContain("The keys this node gives you are not the ones the hardware vouched for");
      // Everything else still holds: the hardware signed what it signed.
      expect(await page.locator('[data-check="quote signature"].check-pass').count()).toBe(1);
      await page.screenshot({ path: screenshotPath("verify-tampered"), fullPage: true });
      expect(await axeSerious(page)).toEqual([]);
      await page.close();
    } finally {
      proxy.tamper = {};
    }
  });

  it("chat: a verified, signed, logged answer end to end; the recording proxy never sees the prompt or the answer", async () => {
    const before = proxy.exchanges.length;
    const page = await open(`${proxy.url}/console/#/chat?${ACCEPT}`);
    await page.locator("#chat-model option").first().waitFor({ state: "attached" });
    await page.getByLabel("Message").fill(PROMPT);
    await page.getByRole("button", { name: "Send" }).click();
    const proof = page.getByTestId("answer-signature");
    await proof.waitFor();
    expect(await proof.innerText()).toContain("Signature checked");
    expect(await page.locator(".turn-assistant .turn-text").innerText()).toBe(ANSWER);
    // And the exchange is in the node's receipt log (inclusion proof checked in the browser).
    const logged = page.getByTestId("answer-receipt");
    await logged.waitFor();
    expect(await logged.innerText()).toMatch(/Logged: exchange \d+ of \d+ in the node's receipt log/);
    await page.screenshot({ path: screenshotPath("chat"), fullPage: true });
    expect(await axeSerious(page)).toEqual([]);
    await page.close();
    const sent = proxy.exchanges.slice(before);
    expect(sent.some((e) => e.method === "POST" && e.path === "/v1/chat/completions")).toBe(true);
    const wire = proxy.wire();
    expect(wire.includes(PROMPT)).toBe(false);
    expect(wire.includes("locker combination")).toBe(false);
    expect(wire.includes(ANSWER)).toBe(false);
  });

  it("market: both nodes registered on the local chain are on the map, each verified by the browser", async () => {
    const page = await open(`${node.url}/console/#/market?${ACCEPT},gpu&discovery=${encodeURIComponent(discovery.url)}`);
    await page.locator(".node-card").nth(1).waitFor();
    await page.waitForFunction("document.querySelectorAll('.node-card[data-status=\"ok\"]').length === 2", undefined, { timeout: 20_000 });
    const enclaves = await page.locator(".node-card").evaluateAll((els) => els.map((e) => e.getAttribute("data-enclave")?.toLowerCase()));
    expect(enclaves.sort()).toEqual(remotes.map((r) => r.enclave.address.toLowerCase()).sort());
    expect(await page.locator("svg.world .dot-ok").count()).toBe(2);
    expect(await page.locator("svg.world path.land").count()).toBe(1);
    const text = await page.getByTestId("market-nodes").innerText();
    for (const r of remotes) expect(text).toContain(r.url);
    expect(text).toContain("eu-west");
    // Prices from the chain, and the model named by hashing what each node serves.
    await page.locator(".node-card td", { hasText: /^fake$/ }).nth(1).waitFor();
    expect(text).toContain("0.25 tokens");
    expect(text).toContain("1,000,000 wei");
    await page.screenshot({ path: screenshotPath("market"), fullPage: true });
    expect(await axeSerious(page)).toEqual([]);
    await page.close();
  });

  it("models, agents (a real hub with a published agent) and usage render what the node exposes, and pass axe", async () => {
    const page = await open(`${node.url}/console/#/verify?${ACCEPT}`);
    await page.getByTestId("verdict").waitFor();
    await page.getByRole("link", { name: "Models" }).click();
    await page.getByText("fake").first().waitFor();
    await page.screenshot({ path: screenshotPath("models"), fullPage: true });
    expect(await axeSerious(page)).toEqual([]);
    await page.getByRole("link", { name: "Agents" }).click();
    // The hub's listing in plain words: scanner verdict, egress allowlist, observability.
    await page.getByText("May connect to:").waitFor();
    const agents = await page.locator(".agent-card").innerText();
    expect(agents).toContain("summarise");
    expect(agents).toContain("api.weather.example");
    expect(agents).toContain("The developer sees counts and sizes only");
    expect(agents).toMatch(/Scanner: (The scanner found nothing worrying|The scanner found things a person should review)/);
    await page.screenshot({ path: screenshotPath("agents"), fullPage: true });
    expect(await axeSerious(page)).toEqual([]);
    await page.getByRole("link", { name: "Usage" }).click();
    await page.getByText("Not available yet").waitFor();
    await page.screenshot({ path: screenshotPath("usage"), fullPage: true });
    expect(await axeSerious(page)).toEqual([]);
    await page.close();
    // Keyboard: on a fresh page the skip link is the first stop and lands on the main landmark.
    const fresh = await open(`${node.url}/console/#/usage`);
    await fresh.getByText("Not available yet").waitFor();
    await fresh.keyboard.press("Tab");
    expect(await fresh.evaluate("document.activeElement?.textContent")).toBe("Skip to content");
    await fresh.keyboard.press("Enter");
    expect(await fresh.evaluate("document.activeElement?.id")).toBe("main");
    await fresh.close();
    expect(cspViolations).toEqual([]);
  });
});
