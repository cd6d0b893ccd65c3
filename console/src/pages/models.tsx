/**
 * Models: what the node serves (GET /v1/models) beside what its verified report says about
 * them (info.app_manifest.models: file hashes, and for sealed models the owner, price,
 * royalty, key brokers), and whether the hardware measured that list.
 */
import { useEffect, useState } from "preact/hooks";
import { listModels, type ModelEntry } from "../api.js";
import { MarkIcon, Notice } from "../components.js";
import type { NodeVerification } from "../verify/session.js";

type Manifested = Record<string, unknown>;

function manifestModels(report: unknown): Manifested[] {
  const info = (report as { info?: { app_manifest?: { models?: unknown } } } | null)?.info;
  const models = info?.app_manifest?.models;
  return Array.isArray(models) ? models.filter((m): m is Manifested => typeof m === "object" && m !== null) : [];
}

const text = (v: unknown): string => (typeof v === "string" || typeof v === "number" ? String(v) : v === undefined || v === null ? "—" : JSON.stringify(v));

export function ModelsPage(props: { node: string; apiKey: string; verification: NodeVerification | null }): preact.JSX.Element {
  const [models, setModels] = useState<ModelEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!props.node) return;
    setModels(null);
    setError(null);
    listModels(props.node, props.apiKey || undefined).then(setModels, (e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [props.node, props.apiKey]);
  const v = props.verification?.node === props.node ? props.verification : null;
  const manifest = v ? manifestModels(v.report) : [];
  const measured = v?.result.checks.find((c) => c.name === "app manifest (models) in RTMR3");
  return (
    <section aria-labelledby="models-title">
      <h1 id="models-title">Models</h1>
      <p class="lead">Plain models are files the node loads as they are; sealed models are encrypted by their owner, and only machines whose measurements the owner's key brokers accept receive the key.</p>
      {!props.node && <Notice kind="info">Choose a node on the Verify page first.</Notice>}
      {error && <Notice kind="error">Could not list models: {error}</Notice>}
      {models && (
        <table>
          <caption>Served by {props.node}</caption>
          <thead><tr><th scope="col">Model</th><th scope="col">Owner</th></tr></thead>
          <tbody>{models.map((m) => <tr><td><code>{m.id}</code></td><td>{m.ownedBy || "—"}</td></tr>)}</tbody>
        </table>
      )}
      <h2>What the verified report says</h2>
      {!v && <Notice kind="info">Verify this node first: the model details below come from its report, checked by your browser.</Notice>}
      {v && (
        <p>
          <MarkIcon mark={measured?.ok ? "pass" : measured?.skipped ? "open" : "fail"} />{" "}
          {measured?.ok ? "The hardware measured this list of models and hashes at start." : "This list was not measured by the hardware: it is the node's word only."}
        </p>
      )}
      {v && manifest.length === 0 && <p>The report lists no model files.</p>}
      {manifest.map((m) => {
        const sealed = typeof m["sealed"] === "object" && m["sealed"] !== null ? (m["sealed"] as Record<string, unknown>) : null;
        return (
          <article class="model-card">
            <h3>{text(m["id"] ?? m["name"])} <span class="tag">{sealed ? "sealed" : "plain"}</span></h3>
            <dl>
              {Object.entries(m).filter(([k]) => k !== "sealed").map(([k, val]) => <><dt>{k}</dt><dd><code>{text(val)}</code></dd></>)}
              {sealed && Object.entries(sealed).map(([k, val]) => <><dt>{k}</dt><dd><code>{text(val)}</code></dd></>)}
            </dl>
          </article>
        );
      })}
    </section>
  );
}
