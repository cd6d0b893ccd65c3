import { errors, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { describe, expect, it } from "vitest";

// What verifyNrasResponse relies on jose for (STYLE.md: write down a dependency's guarantees as a test).
describe("jose guarantees for ES384 tokens", () => {
  it("rejects a token with one flipped signature byte, and one past exp", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES384");
    const now = Math.floor(Date.UTC(2026, 0, 1) / 1000);
    const token = await new SignJWT({ measres: "success" }).setProtectedHeader({ alg: "ES384" }).setIssuedAt(now).setExpirationTime(now + 3600).sign(privateKey);

    await expect(jwtVerify(token, publicKey, { currentDate: new Date((now + 60) * 1000) })).resolves.toBeTruthy();

    const [h, p, s] = token.split(".") as [string, string, string];
    const sig = Buffer.from(s, "base64url");
    sig[0] = (sig[0] ?? 0) ^ 0x01;
    await expect(jwtVerify(`${h}.${p}.${sig.toString("base64url")}`, publicKey, { currentDate: new Date((now + 60) * 1000) })).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);

    await expect(jwtVerify(token, publicKey, { currentDate: new Date((now + 3601) * 1000) })).rejects.toBeInstanceOf(errors.JWTExpired);
  });
});
