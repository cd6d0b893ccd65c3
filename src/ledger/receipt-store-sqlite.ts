/**
 * Issued receipts in SQLite (better-sqlite3, synchronous, WAL with synchronous=FULL so an
 * append is on disk when it returns). Primary key (channel, seq): the store itself refuses a
 * second receipt for one seq, the one thing a node must never sign.
 */
import Database from "better-sqlite3";
import type { Settlement, SignedPermit, SignedReceipt } from "./chain.js";
import { LedgerError } from "./errors.js";
import type { ChannelHead, ReceiptStore } from "./receipt-book.js";
import { ensurePrivateDbFiles } from "../store/private-files.js";

const big = (_k: string, v: unknown): unknown => (typeof v === "bigint" ? { $big: v.toString() } : v);
const unbig = (_k: string, v: unknown): unknown =>
  v && typeof v === "object" && "$big" in v && typeof (v as { $big: unknown }).$big === "string" ? BigInt((v as { $big: string }).$big) : v;

export interface SqliteReceiptStore extends ReceiptStore {
  close(): void;
}

export function openSqliteReceiptStore(path: string): SqliteReceiptStore {
  // What users spent (permits, receipts): private to the node's user, like the main store.
  if (path !== ":memory:") ensurePrivateDbFiles(path);
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec(`CREATE TABLE IF NOT EXISTS market_receipts (
    channel TEXT NOT NULL, seq TEXT NOT NULL, seq_num INTEGER NOT NULL, cumulative TEXT NOT NULL,
    permit TEXT NOT NULL, receipt TEXT NOT NULL, created_at INTEGER NOT NULL,
    PRIMARY KEY (channel, seq_num))`);
  // Added with the gateway wiring (#9): which request a receipt was issued for. Older files gain the column.
  const cols = db.prepare<[], { name: string }>("PRAGMA table_info(market_receipts)").all();
  if (!cols.some((c) => c.name === "request_id")) db.exec("ALTER TABLE market_receipts ADD COLUMN request_id TEXT");
  db.exec("CREATE INDEX IF NOT EXISTS market_receipts_request ON market_receipts (request_id)");
  const headQ = db.prepare<[string], { seq: string; cumulative: string }>("SELECT seq, cumulative FROM market_receipts WHERE channel = ? ORDER BY seq_num DESC LIMIT 1");
  const insert = db.prepare("INSERT INTO market_receipts (channel, seq, seq_num, cumulative, permit, receipt, created_at, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  const byRequestQ = db.prepare<[string], { receipt: string }>("SELECT receipt FROM market_receipts WHERE request_id = ? ORDER BY created_at DESC, seq_num DESC LIMIT 1");
  const latestQ = db.prepare<[], { permit: string; receipt: string }>(
    "SELECT r.permit, r.receipt FROM market_receipts r JOIN (SELECT channel, MAX(seq_num) AS m FROM market_receipts GROUP BY channel) l ON r.channel = l.channel AND r.seq_num = l.m",
  );
  return {
    head: async (channel): Promise<ChannelHead | null> => {
      const row = headQ.get(channel);
      return row ? { seq: BigInt(row.seq), cumulative: BigInt(row.cumulative) } : null;
    },
    append: async (channel, permit: SignedPermit, r: SignedReceipt, requestId?: string): Promise<void> => {
      try {
        insert.run(channel, r.receipt.seq.toString(), Number(r.receipt.seq), r.receipt.cumulative.toString(), JSON.stringify(permit, big), JSON.stringify(r, big), Date.now(), requestId ?? null);
      } catch (cause) {
        throw new LedgerError("RECEIPT_SEQ_TAKEN", "a receipt with this seq is already stored for the channel", { cause });
      }
    },
    latest: async (): Promise<Settlement[]> =>
      latestQ.all().map((row) => ({ permit: JSON.parse(row.permit, unbig) as SignedPermit, receipt: JSON.parse(row.receipt, unbig) as SignedReceipt })),
    byRequest: async (requestId): Promise<SignedReceipt | null> => {
      const row = byRequestQ.get(requestId);
      return row ? (JSON.parse(row.receipt, unbig) as SignedReceipt) : null;
    },
    close: () => db.close(),
  };
}
