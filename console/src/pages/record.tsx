/** A shared verification record: its signature checked and its report re-verified here. */
import { MarkIcon, Notice, SimulatedBanner } from "../components.js";
import { plainLine } from "../verify/plain.js";
import { checkRecord, decodeRecord } from "../verify/record.js";

export function RecordPage(props: { encoded: string }): preact.JSX.Element {
  const rec = decodeRecord(props.encoded);
  if (!rec) {
    return (
      <section aria-labelledby="record-title">
        <h1 id="record-title">Verification record</h1>
        <Notice kind="error">This link does not hold a readable verification record.</Notice>
      </section>
    );
  }
  const c = checkRecord(rec);
  const ok = c.signatureOk && c.reportHashOk && c.verdictConsistent;
  return (
    <section aria-labelledby="record-title">
      <h1 id="record-title">Verification record</h1>
      {rec.body.simulated && <SimulatedBanner />}
      <div class={`verdict ${ok && rec.body.verified ? "verdict-ok" : "verdict-bad"}`} role="status" data-testid="record-verdict">
        <MarkIcon mark={ok && rec.body.verified ? "pass" : "fail"} />
        <span>
          {rec.body.verified ? "Recorded as verified" : "Recorded as NOT verified"} — {rec.body.node} at {rec.body.verifiedAt}.{" "}
          {ok ? "The record's signature holds and its report gives the same verdict when checked again here." : "This record does not hold up (see below)."}
        </span>
      </div>
      <ul class="checks" aria-label="Record checks">
        <li class={`check check-${c.signatureOk ? "pass" : "fail"}`}><MarkIcon mark={c.signatureOk ? "pass" : "fail"} /><div><span class="check-title">Signed by the browser that checked</span><span class="check-sentence">{c.signatureOk ? `Ed25519 key ${rec.body.verifierKey.slice(0, 16)}… signed exactly this record.` : "The signature does not match: the record was changed."}</span></div></li>
        <li class={`check check-${c.reportHashOk ? "pass" : "fail"}`}><MarkIcon mark={c.reportHashOk ? "pass" : "fail"} /><div><span class="check-title">The report inside is the one that was checked</span><span class="check-sentence">{c.reportHashOk ? "Its hash is the recorded one." : "The enclosed report is not the one recorded."}</span></div></li>
        <li class={`check check-${c.verdictConsistent ? "pass" : "fail"}`}><MarkIcon mark={c.verdictConsistent ? "pass" : "fail"} /><div><span class="check-title">The verdict follows from the report</span><span class="check-sentence">{c.verdictConsistent ? "Every check was re-run here, on the recorded challenge and choices, with the same result." : "Re-running the checks here gives another verdict."}</span></div></li>
      </ul>
      {c.reverified && (
        <>
          <h2>The checks, re-run here</h2>
          <ul class="checks" aria-label="Re-run checks">
            {c.reverified.checks.map(plainLine).map((l) => (
              <li class={`check check-${l.mark}`}><MarkIcon mark={l.mark} /><div><span class="check-title">{l.title}</span><span class="check-sentence">{l.sentence}</span></div></li>
            ))}
          </ul>
        </>
      )}
      <details class="raw"><summary>Raw record</summary><pre tabIndex={0}>{JSON.stringify(rec, null, 2)}</pre></details>
    </section>
  );
}
