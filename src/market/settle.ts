/**
 * Settlement of what the node's receipt store holds: the latest receipt of every channel
 * not yet settled on chain, all in one `settleBatch` transaction (chunks of `maxBatch`).
 * A receipt the escrow would refuse (its permit long expired, its seq already settled by
 * someone else) would revert the whole batch, so channels are checked first and a refused
 * batch is retried one receipt at a time, keeping the good ones.
 */
import type { Chain, Settlement, TxResult } from "../ledger/chain.js";
import type { ReceiptStore } from "../ledger/receipt-book.js";
import { isCloisterError } from "../errors.js";

export interface SettleReport {
  /** Receipts settled on chain. */
  readonly settled: number;
  /** Requests those receipts covered (seq increase per channel). */
  readonly requestsCovered: bigint;
  /** Sum of the cumulative increases those receipts claimed. */
  readonly claimed: bigint;
  readonly txs: readonly TxResult[];
  readonly gasUsed: bigint;
  readonly alreadySettled: number;
  readonly refused: readonly { readonly receipt: Settlement; readonly code: string; readonly revert?: string }[];
}

export async function settlePending(chain: Chain, store: ReceiptStore, o: { maxBatch?: number } = {}): Promise<SettleReport> {
  const max = o.maxBatch ?? 100;
  const due: { s: Settlement; covered: bigint; claimed: bigint }[] = [];
  let alreadySettled = 0;
  for (const s of await store.latest()) {
    const r = s.receipt.receipt;
    const ch = await chain.channelState(r.permitId, r.enclave, r.model);
    if (r.seq <= ch.lastSeq) {
      alreadySettled++;
      continue;
    }
    due.push({ s, covered: r.seq - ch.lastSeq, claimed: r.cumulative - ch.settled });
  }
  const txs: TxResult[] = [];
  const refused: { receipt: Settlement; code: string; revert?: string }[] = [];
  let settled = 0;
  let requestsCovered = 0n;
  let claimed = 0n;
  const ok = (items: typeof due): void => {
    settled += items.length;
    for (const i of items) (requestsCovered += i.covered), (claimed += i.claimed);
  };
  for (let i = 0; i < due.length; i += max) {
    const batch = due.slice(i, i + max);
    try {
      txs.push(await chain.settle(batch.map((b) => b.s)));
      ok(batch);
    } catch (err) {
      if (!isCloisterError(err) || err.code !== "CHAIN_REVERTED" || batch.length === 1) {
        if (batch.length === 1 && isCloisterError(err)) refused.push({ receipt: batch[0]!.s, code: err.code, ...revertOf(err) });
        else throw err;
        continue;
      }
      for (const one of batch) {
        try {
          txs.push(await chain.settle([one.s]));
          ok([one]);
        } catch (e) {
          if (!isCloisterError(e)) throw e;
          refused.push({ receipt: one.s, code: e.code, ...revertOf(e) });
        }
      }
    }
  }
  return { settled, requestsCovered, claimed, txs, gasUsed: txs.reduce((a, t) => a + t.gasUsed, 0n), alreadySettled, refused };
}

function revertOf(e: unknown): { revert?: string } {
  const d = (e as { details?: Record<string, unknown> }).details;
  return typeof d?.["revert"] === "string" ? { revert: d["revert"] } : {};
}
