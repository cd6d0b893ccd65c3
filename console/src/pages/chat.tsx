/**
 * Chat through cloister/client: attested with this browser's verifier, every request
 * sealed to the attested key (E2E), every answer's signature checked before it is shown.
 */
import { useMemo, useState } from "preact/hooks";
import { createCloisterClient } from "../../../src/client/index.js";
import { exchangeText, fetchReceipt, type SignedReceipt } from "../../../src/client/receipt.js";
import { RECEIPT_INDEX_HEADER, RECEIPT_SALT_HEADER } from "../../../src/client/response.js";
import type { PinnedNode } from "../../../src/client/attestation.js";
import { utf8 } from "../../../src/util/bytes.js";
import { MarkIcon, Notice, SimulatedBanner } from "../components.js";
import type { BrowserPolicy } from "../verify/report.js";
import { browserReportVerifier } from "../verify/session.js";

interface Turn {
  readonly role: "user" | "assistant";
  readonly content: string;
  readonly signedBy?: string;
  /** The exchange's place in the node's receipt log, inclusion checked; null when not (yet) found. */
  readonly receipt?: SignedReceipt | null;
}

/**
 * The receipt log entry for a signed exchange: the signed text is sha256(request plaintext)
 * : sha256(response plaintext) (docs/protocol.md "Signatures"), its leaf must be in the log
 * under a checkpoint signed by the pinned key. The log is appended right after signing, so
 * a few short retries.
 */
async function receiptFor(node: string, res: Response, pinned: PinnedNode, text: string): Promise<SignedReceipt | null> {
  const id = res.headers.get("x-cloister-request-id");
  if (!id) return null;
  // A sealed answer's leaf index and salt came in its sealed trailer (the public proof has no salt).
  const indexText = res.headers.get(RECEIPT_INDEX_HEADER);
  const index = indexText === null ? undefined : Number(indexText);
  const salt = res.headers.get(RECEIPT_SALT_HEADER) ?? undefined;
  for (let i = 0; i < 10; i++) {
    try {
      return await fetchReceipt(`${node}/v1`, id, pinned, text, fetch, index, salt);
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return null;
}

export function ChatPage(props: { node: string; policy: BrowserPolicy; apiKey: string; models: readonly string[] }): preact.JSX.Element {
  const client = useMemo(
    () =>
      props.node
        ? createCloisterClient({
            baseURL: `${props.node}/v1`,
            allowSimulated: props.policy.allowSimulated,
            verifyReport: browserReportVerifier(props.policy),
            attestation: { acceptUnchecked: props.policy.acceptTcbUnchecked ? ["tcb"] : [], onWarning: () => {} },
            onFailure: "throw",
            ...(props.apiKey ? { apiKey: props.apiKey } : {}),
          })
        : null,
    [props.node, props.policy.allowSimulated, props.policy.acceptTcbUnchecked, props.policy.acceptGpuUnchecked, props.apiKey],
  );
  const [turns, setTurns] = useState<Turn[]>([]);
  const [model, setModel] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [simulated, setSimulated] = useState(false);
  const chosen = model || props.models[0] || "";

  const send = async (text: string): Promise<void> => {
    if (!client || !text.trim()) return;
    const history: Turn[] = [...turns, { role: "user", content: text }];
    setTurns(history);
    setBusy(true);
    setError(null);
    try {
      const pinned = await client.attestation();
      setSimulated(pinned.simulated);
      const body = JSON.stringify({ model: chosen, messages: history.map((t) => ({ role: t.role, content: t.content })) });
      // The verifying fetch seals the body to the attested key and refuses (throws) unless the
      // answer opens and its signature over this exact exchange checks against the pinned key.
      const res = await client.fetch(`${props.node}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...(props.apiKey ? { authorization: `Bearer ${props.apiKey}` } : {}) }, body });
      const answer = new Uint8Array(await res.arrayBuffer());
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${utf8.decode(answer).slice(0, 200)}`);
      const r = JSON.parse(utf8.decode(answer)) as { choices?: { message?: { content?: string } }[] };
      const turn: Turn = { role: "assistant", content: r.choices?.[0]?.message?.content ?? "", signedBy: pinned.signingAddress };
      setTurns([...history, turn]);
      const receipt = await receiptFor(props.node, res, pinned, exchangeText(utf8.encode(body), answer));
      setTurns([...history, { ...turn, receipt }]);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      setError(`${typeof code === "string" ? `${code}: ` : ""}${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="chat-title">
      <h1 id="chat-title">Chat</h1>
      <p class="lead">Your messages are encrypted in this browser to the key the node's hardware vouched for; only the attested machine can read them. Each answer is shown only after its signature was checked.</p>
      {!props.node && <Notice kind="info">Choose a node on the Verify page first.</Notice>}
      {simulated && <SimulatedBanner />}
      <ol class="chat-log" aria-label="Conversation" aria-live="polite">
        {turns.map((t) => (
          <li class={`turn turn-${t.role}`}>
            <span class="turn-role">{t.role === "user" ? "You" : "Node"}</span>
            <p class="turn-text">{t.content}</p>
            {t.signedBy && (
              <p class="turn-proof" data-testid="answer-signature">
                <MarkIcon mark="pass" /> Signature checked: signed by {t.signedBy.slice(0, 12)}…, the key this browser verified. Sent end-to-end encrypted.
              </p>
            )}
            {t.receipt && (
              <p class="turn-proof" data-testid="answer-receipt">
                <MarkIcon mark="pass" /> Logged: exchange {t.receipt.index + 1} of {t.receipt.tree_size} in the node's receipt log (inclusion proof checked under a checkpoint signed by the same key).
              </p>
            )}
            {t.receipt === null && <p class="meta">No receipt-log entry found for this answer.</p>}
          </li>
        ))}
      </ol>
      {error && <Notice kind="error">Refused: {error}</Notice>}
      <form
        class="chat-form"
        onSubmit={(e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const v = new FormData(form).get("prompt");
          if (typeof v === "string") void send(v);
          form.reset();
        }}
      >
        <label for="chat-model">Model</label>
        <select id="chat-model" value={chosen} onChange={(e) => setModel(e.currentTarget.value)}>
          {props.models.map((m) => <option value={m}>{m}</option>)}
        </select>
        <label for="chat-prompt">Message</label>
        <textarea id="chat-prompt" name="prompt" rows={3} required />
        <button type="submit" disabled={busy || !client}>{busy ? "Waiting for a verified answer…" : "Send"}</button>
      </form>
    </section>
  );
}
