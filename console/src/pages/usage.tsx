/**
 * Usage: what a key holder can see today through the public API, and what the API does not
 * expose yet (said plainly, not faked).
 */
import { useState } from "preact/hooks";
import { fetchReceipt, type ReceiptProof } from "../api.js";
import { Notice } from "../components.js";

export function UsagePage(props: { node: string; apiKey: string; onApiKey: (k: string) => void }): preact.JSX.Element {
  const [receipt, setReceipt] = useState<ReceiptProof | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <section aria-labelledby="usage-title">
      <h1 id="usage-title">Usage</h1>
      <form
        class="node-form"
        onSubmit={(e) => {
          e.preventDefault();
          const v = new FormData(e.currentTarget).get("key");
          props.onApiKey(typeof v === "string" ? v.trim() : "");
        }}
      >
        <label for="api-key">API key (kept in this tab only)</label>
        <input id="api-key" name="key" type="password" autoComplete="off" value={props.apiKey} />
        <button type="submit">Save</button>
      </form>
      <h2>Receipts</h2>
      <form
        class="node-form"
        onSubmit={(e) => {
          e.preventDefault();
          const id = new FormData(e.currentTarget).get("rid");
          if (typeof id !== "string" || !props.node) return;
          setError(null);
          fetchReceipt(props.node, id.trim()).then(setReceipt, (err: unknown) => setError(err instanceof Error ? err.message : String(err)));
        }}
      >
        <label for="receipt-id">Request id (from an answer's X-Cloister-Request-Id)</label>
        <input id="receipt-id" name="rid" type="text" required />
        <button type="submit">Look up</button>
      </form>
      {error && <Notice kind="error">{error}</Notice>}
      {receipt && <p>Exchange {receipt.index + 1} of {receipt.treeSize} in this boot's receipt log, signed by <code>{receipt.signingAddress}</code>.</p>}
      <h2>Not available yet</h2>
      <ul>
        <li>Per-key usage totals: the node meters every request, but no public route returns a key's totals yet.</li>
        <li>Escrow balance and settlements: on the market chain (escrow contract); the console has no chain reader yet — use <code>cloister escrow</code>.</li>
        <li>Data contributions and rewards: no route lists a contributor's records yet.</li>
      </ul>
    </section>
  );
}
