/** Agents: the node's hub (GET /v1/agents) with scanner report, egress allowlist and observability in plain words. */
import { useEffect, useState } from "preact/hooks";
import { listAgents, showAgent, type AgentDetail, type AgentSummary } from "../api.js";
import { Notice } from "../components.js";

const OBSERVABILITY: Readonly<Record<string, string>> = {
  none: "The developer sees nothing but a count of runs.",
  metrics: "The developer sees counts and sizes only: outcome, duration, connections, bytes — never your input or output.",
  redacted: "The developer sees error lines with your input's text and anything secret-looking replaced.",
  full: "The developer sees everything, your input and output included — it runs only if you accept that for the run.",
};

const VERDICT: Readonly<Record<string, string>> = {
  clean: "The scanner found nothing worrying.",
  review: "The scanner found things a person should review.",
  dangerous: "The scanner found dangerous behaviour.",
};

export function AgentsPage(props: { node: string; apiKey: string }): preact.JSX.Element {
  const [agents, setAgents] = useState<AgentSummary[] | null>(null);
  const [details, setDetails] = useState<Record<string, AgentDetail>>({});
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!props.node) return;
    setAgents(null);
    setError(null);
    listAgents(props.node, props.apiKey || undefined)
      .then(async (list) => {
        setAgents(list);
        for (const a of list.slice(0, 20)) {
          const d = await showAgent(props.node, a.name, props.apiKey || undefined).catch(() => null);
          if (d) setDetails((s) => ({ ...s, [a.name]: d }));
        }
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [props.node, props.apiKey]);
  return (
    <section aria-labelledby="agents-title">
      <h1 id="agents-title">Agents</h1>
      <p class="lead">Agents run in a sandbox on the node. Each may reach only the hosts it declared, and its developer sees only what its observability level allows.</p>
      {!props.node && <Notice kind="info">Choose a node on the Verify page first.</Notice>}
      {error && <Notice kind="error">Could not list agents: {error}{/no such route|http_404/.test(error) ? " (this node runs no agent hub)" : ""}</Notice>}
      {agents && agents.length === 0 && <p>This hub has no agents yet.</p>}
      {agents?.map((a) => {
        const d = details[a.name];
        return (
          <article class="agent-card">
            <h2>{a.name} <span class="tag">{a.version}</span></h2>
            <p>{a.description || "No description."}</p>
            <p><strong>Scanner:</strong> {VERDICT[a.scannerVerdict] ?? a.scannerVerdict}</p>
            {d && (
              <>
                <p><strong>Who sees what:</strong> {OBSERVABILITY[d.observability] ?? d.observability}</p>
                <p><strong>May connect to:</strong> {d.egress.length ? d.egress.join(", ") : "nothing outside the node (no network)"}</p>
                <p><strong>May use models:</strong> {d.models.length ? d.models.join(", ") : "none"}</p>
                {d.findings.length > 0 && (
                  <ul aria-label={`Scanner findings for ${a.name}`}>
                    {/* The egress proxy enforces the allowlist at run time whatever the code contains; findings say what the code would try. */}
                    {d.findings.map((f) => <li>{f.severity}{f.thirdParty ? " (in a bundled dependency)" : ""}: {f.message} ({f.file}{f.line !== null ? `:${f.line}` : ""})</li>)}
                  </ul>
                )}
                <p class="meta">Bundle <code>{d.bundleSha256.slice(0, 16)}…</code>, developer key <code>{d.developerKey.slice(0, 16)}…</code></p>
              </>
            )}
          </article>
        );
      })}
      <h2>Run receipts</h2>
      <p>A run's receipt is signed by the node's attested key and names the bundle, the sandbox, every connection it made and hashes of your input and output. Receipts are returned to whoever runs an agent (<code>cloister agents run</code>); this console does not start runs yet.</p>
    </section>
  );
}
