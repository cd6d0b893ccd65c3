/** Verify: fetch the report with this browser's nonce, check it here, explain each check. */
import { useEffect, useMemo, useState } from "preact/hooks";
import { MarkIcon, Notice, NodeForm, PolicyChoices, SimulatedBanner } from "../components.js";
import { plainLine } from "../verify/plain.js";
import { encodeRecord, makeRecord } from "../verify/record.js";
import type { BrowserPolicy } from "../verify/report.js";
import { verifyNode, type NodeVerification } from "../verify/session.js";

export function VerifyPage(props: { node: string; onNode: (n: string) => void; policy: BrowserPolicy; onPolicy: (p: BrowserPolicy) => void; onVerified: (v: NodeVerification) => void }): preact.JSX.Element {
  const [state, setState] = useState<{ busy: boolean; v: NodeVerification | null; error: string | null }>({ busy: false, v: null, error: null });
  const run = async (): Promise<void> => {
    if (!props.node) return;
    setState({ busy: true, v: null, error: null });
    try {
      const v = await verifyNode(props.node, props.policy);
      setState({ busy: false, v, error: null });
      props.onVerified(v);
    } catch (e) {
      setState({ busy: false, v: null, error: e instanceof Error ? e.message : String(e) });
    }
  };
  useEffect(() => {
    void run();
    // Re-verify whenever the node or the visitor's policy changes: the verdict depends on both.
  }, [props.node, props.policy.allowSimulated, props.policy.acceptTcbUnchecked, props.policy.acceptGpuUnchecked]);

  const v = state.v;
  const lines = v ? v.result.checks.map(plainLine) : [];
  // Signed once per verification (not per render): the record says what was checked then.
  const record = useMemo(() => (v ? makeRecord(v.node, v.nonce, v.report, v.result, props.policy) : null), [v]);
  const recordLink = record ? `${location.origin}${location.pathname}#/record?r=${encodeRecord(record)}` : "";
  return (
    <section aria-labelledby="verify-title">
      <h1 id="verify-title">Verify a node</h1>
      <p class="lead">Your browser sends the node a random challenge, receives its hardware-signed report, and checks every claim itself. Nothing is taken on the node's word.</p>
      <NodeForm node={props.node} onNode={props.onNode} action="Verify" />
      <PolicyChoices policy={props.policy} onPolicy={props.onPolicy} />
      {!props.node && <Notice kind="info">Enter a node's address to verify it.</Notice>}
      {state.busy && <Notice kind="info">Checking {props.node}…</Notice>}
      {state.error && <Notice kind="error">Could not get a report: {state.error}</Notice>}
      {v && (
        <div class="result">
          {v.result.simulated && <SimulatedBanner />}
          <div class={`verdict ${v.result.verified ? "verdict-ok" : "verdict-bad"}`} role="status" data-testid="verdict">
            <MarkIcon mark={v.result.verified ? "pass" : "fail"} />
            {v.result.verified
              ? <span><strong>Verified by your browser.</strong> Every check below passed for {v.node} at {v.at.toLocaleTimeString()}.</span>
              : <span><strong>Not verified.</strong> Your browser refuses this node: see what failed below.</span>}
          </div>
          <ul class="checks" aria-label="Checks">
            {lines.map((l) => (
              <li class={`check check-${l.mark}`} data-check={l.check.name}>
                <MarkIcon mark={l.mark} />
                <div>
                  <span class="check-title">{l.title}</span>
                  <span class="check-sentence">{l.sentence}</span>
                  {l.mark === "fail" && l.check.code && <span class="check-code">({l.check.code}: {l.check.detail})</span>}
                </div>
              </li>
            ))}
          </ul>
          <details class="raw">
            <summary>Raw evidence (the report exactly as received, and every check's technical detail)</summary>
            <h2>Checks</h2>
            <pre tabIndex={0}>{JSON.stringify(v.result.checks, null, 2)}</pre>
            <h2>Measurements</h2>
            <pre tabIndex={0}>{JSON.stringify(v.result.measurements, null, 2)}</pre>
            <h2>Report (nonce {v.nonce})</h2>
            <pre tabIndex={0} data-testid="raw-report">{JSON.stringify(v.report, null, 2)}</pre>
          </details>
          {record && (
            <div class="record">
              <h2>Share this verification</h2>
              <p>A record of this check, with the report inside so anyone can re-run every check, signed by a key this browser made (<code>{record.body.verifierKey.slice(0, 16)}…</code>).</p>
              <p>
                <a href={recordLink} data-testid="record-link">Open the signed record</a>
                {" · "}
                <a href={`data:application/json;charset=utf-8,${encodeURIComponent(JSON.stringify(record))}`} download="cloister-verification.json">Download it (JSON)</a>
              </p>
            </div>
          )}
        </div>
      )}
    </section>
  );
}
