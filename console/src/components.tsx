/** Small pieces every page uses: the node form, the policy choices, marks and the banner. */
import type { ComponentChildren } from "preact";
import type { BrowserPolicy } from "./verify/report.js";
import type { Mark } from "./verify/plain.js";

export function NodeForm(props: { node: string; onNode: (n: string) => void; label?: string; action?: string }): preact.JSX.Element {
  const id = `node-${props.label ?? "url"}`.replace(/\s+/g, "-").toLowerCase();
  return (
    <form
      class="node-form"
      onSubmit={(e) => {
        e.preventDefault();
        const v = new FormData(e.currentTarget).get("node");
        if (typeof v === "string") props.onNode(v.trim());
      }}
    >
      <label for={id}>{props.label ?? "Node URL"}</label>
      <input id={id} name="node" type="url" inputMode="url" autoComplete="url" required placeholder="https://node.example" value={props.node} />
      <button type="submit">{props.action ?? "Use this node"}</button>
    </form>
  );
}

export function PolicyChoices(props: { policy: BrowserPolicy; onPolicy: (p: BrowserPolicy) => void }): preact.JSX.Element {
  const p = props.policy;
  const box = (key: keyof BrowserPolicy, text: string): preact.JSX.Element => (
    <label class="choice">
      <input type="checkbox" name={key} checked={p[key]} onChange={(e) => props.onPolicy({ ...p, [key]: e.currentTarget.checked })} /> {text}
    </label>
  );
  return (
    <fieldset class="policy">
      <legend>What you accept (each is off unless you tick it)</legend>
      {box("allowSimulated", "Accept the simulator (for testing: it proves nothing)")}
      {box("acceptTcbUnchecked", "Accept that the processor's patch level is not checked in this browser")}
      {box("acceptGpuUnchecked", "Accept that the GPU's reference values and revocation are not checked in this browser")}
    </fieldset>
  );
}

const MARK_TEXT: Readonly<Record<Mark, string>> = { pass: "✔", fail: "✘", open: "?" };
const MARK_LABEL: Readonly<Record<Mark, string>> = { pass: "passed", fail: "failed", open: "not established" };

export function MarkIcon(props: { mark: Mark }): preact.JSX.Element {
  return (
    <span class={`mark mark-${props.mark}`} role="img" aria-label={MARK_LABEL[props.mark]}>
      {MARK_TEXT[props.mark]}
    </span>
  );
}

export function SimulatedBanner(): preact.JSX.Element {
  return (
    <div class="simulated-banner" role="alert" data-testid="simulated-banner">
      <strong>SIMULATED</strong> — this node runs on the Cloister simulator, not in protected hardware. Nothing here proves privacy: never send real data to it.
    </div>
  );
}

export function Notice(props: { kind: "error" | "info"; children: ComponentChildren }): preact.JSX.Element {
  return (
    <p class={`notice notice-${props.kind}`} role={props.kind === "error" ? "alert" : "status"}>
      {props.children}
    </p>
  );
}

/** Decimal wei (18 decimals): exact wei below a millionth of a token, else the token amount to 6 places. */
export function tokenAmount(wei: string): string {
  if (!/^\d+$/.test(wei)) return wei || "?";
  const v = BigInt(wei);
  if (v < 10n ** 12n) return `${v.toLocaleString("en-US")} wei`;
  const whole = v / 10n ** 18n;
  const frac = ((v % 10n ** 18n) / 10n ** 12n).toString().padStart(6, "0").replace(/0+$/, "");
  return `${whole}${frac ? `.${frac}` : ""} tokens`;
}
