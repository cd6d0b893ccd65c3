/**
 * Market: the registered nodes (discovery, GET /v1/nodes) on a map, each with its models,
 * prices and region, and its status AS CHECKED BY THIS BROWSER: every endpoint's report is
 * fetched with our own nonce and verified here, not taken from the registry.
 */
import { useEffect, useState } from "preact/hooks";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { listModels, listNodes, nodeOrigin, type NodeList } from "../api.js";
import { toHex, utf8 } from "../../../src/util/bytes.js";
import { MarkIcon, Notice, NodeForm, tokenAmount } from "../components.js";
import { WorldMap, type MapDot } from "../map.js";
import { plainLine } from "../verify/plain.js";
import type { BrowserPolicy } from "../verify/report.js";
import { verifyNode } from "../verify/session.js";

/** The registry names models by keccak256(name) (src/ledger modelId): name them from what each node serves. */
async function modelNames(origin: string): Promise<Record<string, string>> {
  const served = await listModels(origin).catch(() => []);
  return Object.fromEntries(served.map((m) => [`0x${toHex(keccak_256(utf8.encode(m.id)))}`, m.id]));
}

type Status = { kind: "pending" } | { kind: "ok"; simulated: boolean } | { kind: "bad"; why: string };

export function MarketPage(props: { discovery: string; onDiscovery: (d: string) => void; policy: BrowserPolicy }): preact.JSX.Element {
  const [list, setList] = useState<NodeList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<Record<string, Status>>({});
  const [names, setNames] = useState<Record<string, string>>({});
  useEffect(() => {
    if (!props.discovery) return;
    let live = true;
    setList(null);
    setError(null);
    setStatus({});
    listNodes(props.discovery)
      .then((l) => {
        if (!live) return;
        setList(l);
        for (const n of l.nodes) {
          let origin: string;
          try {
            origin = nodeOrigin(n.endpoint);
          } catch {
            setStatus((s) => ({ ...s, [n.enclave]: { kind: "bad", why: "its registered endpoint is not a URL" } }));
            continue;
          }
          void modelNames(origin).then((m) => live && setNames((s) => ({ ...s, ...m })));
          verifyNode(origin, props.policy)
            .then((v) => {
              const first = v.result.checks.map(plainLine).find((x) => x.mark === "fail");
              // The registry names the enclave's address; the report must be signed by that same key.
              const sameKey = v.result.signingAddress === n.enclave.toLowerCase();
              const st: Status = v.result.verified && sameKey ? { kind: "ok", simulated: v.result.simulated } : { kind: "bad", why: !sameKey && v.result.verified ? "the node's attested key is not the registered enclave address" : (first?.sentence ?? "not verified") };
              if (live) setStatus((s) => ({ ...s, [n.enclave]: st }));
            })
            .catch((e: unknown) => live && setStatus((s) => ({ ...s, [n.enclave]: { kind: "bad", why: e instanceof Error ? e.message : String(e) } })));
        }
      })
      .catch((e: unknown) => live && setError(e instanceof Error ? e.message : String(e)));
    return () => {
      live = false;
    };
  }, [props.discovery, props.policy.allowSimulated, props.policy.acceptTcbUnchecked, props.policy.acceptGpuUnchecked]);

  const dots: MapDot[] = (list?.nodes ?? []).map((n) => {
    const s = status[n.enclave] ?? { kind: "pending" };
    return { id: n.enclave, lat: n.location.lat, lon: n.location.lon, label: `${n.endpoint} (${n.region}): ${s.kind === "ok" ? "verified by your browser" : s.kind === "bad" ? "not verified" : "checking"}`, status: s.kind };
  });
  return (
    <section aria-labelledby="market-title">
      <h1 id="market-title">Market</h1>
      <p class="lead">Nodes registered on the market. Each one's status is what your browser found when it checked the node itself, not what the registry claims.</p>
      <NodeForm node={props.discovery} onNode={props.onDiscovery} label="Discovery URL" action="List nodes" />
      {error && <Notice kind="error">Could not list nodes: {error}</Notice>}
      {list && (
        <>
          <WorldMap dots={dots} />
          <p class="meta">Registry indexed to block {list.indexedBlock ?? "?"} (finalized {list.finalizedBlock ?? "?"}).</p>
          <ul class="nodes" aria-label="Registered nodes" data-testid="market-nodes">
            {list.nodes.map((n) => {
              const s = status[n.enclave] ?? { kind: "pending" as const };
              return (
                <li class="node-card" data-enclave={n.enclave} data-status={s.kind}>
                  <h2>{n.endpoint}</h2>
                  <p class="node-status">
                    <MarkIcon mark={s.kind === "ok" ? "pass" : s.kind === "bad" ? "fail" : "open"} />{" "}
                    {s.kind === "ok" ? `Verified by your browser${s.simulated ? " — SIMULATED (proves nothing)" : ""}` : s.kind === "bad" ? `Not verified: ${s.why}` : "Checking…"}
                  </p>
                  <dl>
                    <dt>Region</dt><dd>{n.region || "not given"} ({n.location.lat.toFixed(2)}, {n.location.lon.toFixed(2)}){n.distanceKm !== null ? `, ${Math.round(n.distanceKm)} km away` : ""}</dd>
                    <dt>Enclave</dt><dd><code>{n.enclave}</code></dd>
                    <dt>Registration expires</dt><dd>{new Date(n.expiresAt * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC</dd>
                  </dl>
                  <table>
                    <caption>Models and prices (per million tokens)</caption>
                    <thead><tr><th scope="col">Model</th><th scope="col">Prompt</th><th scope="col">Completion</th></tr></thead>
                    <tbody>
                      {n.models.map((m) => (
                        <tr><td>{names[m.id.toLowerCase()] ?? <code title={m.id}>{m.id.length > 20 ? `${m.id.slice(0, 12)}…` : m.id}</code>}</td><td>{tokenAmount(m.promptPerMillion)}</td><td>{tokenAmount(m.completionPerMillion)}</td></tr>
                      ))}
                    </tbody>
                  </table>
                </li>
              );
            })}
          </ul>
        </>
      )}
    </section>
  );
}
