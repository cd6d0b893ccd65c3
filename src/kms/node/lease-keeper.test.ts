import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { KmsCode, KmsError } from "../codes.js";
import type { FetchedKey } from "./fetch-key.js";
import { keepLease } from "./lease-keeper.js";

const fetched = (expiresAt: Date): FetchedKey => ({ dataKey: new Uint8Array(32), leases: [], expiresAt, registration: {} as FetchedKey["registration"], refusals: [] });

describe("lease keeper", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("renews at half the remaining time and keeps the model while renewals succeed", async () => {
    const renew = vi.fn(async () => fetched(new Date(Date.now() + 10_000)));
    const k = keepLease(new Date(Date.now() + 10_000), renew);
    let expired = false;
    void k.expired.then(() => (expired = true));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(renew.mock.calls.length).toBeGreaterThanOrEqual(6);
    expect(expired).toBe(false);
    k.stop();
  });

  it("reports KMS_LEASE_EXPIRED with the last refusal once the lease runs out unrenewed", async () => {
    const renew = vi.fn(async (): Promise<FetchedKey> => {
      throw new KmsError(KmsCode.KMS_QUORUM_NOT_REACHED, "revoked");
    });
    const k = keepLease(new Date(Date.now() + 10_000), renew, { retryMs: 1000 });
    let why: KmsError | null = null;
    void k.expired.then((e) => (why = e));
    await vi.advanceTimersByTimeAsync(9_000);
    expect(why).toBeNull();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(why).toMatchObject({ code: KmsCode.KMS_LEASE_EXPIRED, details: { lastCode: KmsCode.KMS_QUORUM_NOT_REACHED } });
  });
});
