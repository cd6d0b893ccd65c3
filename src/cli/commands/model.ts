/**
 * `cloister model seal|inspect|keygen|register|upload|update`: the model owner's commands
 * (docs/notes/sealed-models.md walks through them). Secrets (the data key, the owner key)
 * live in files the owner keeps, written mode 0600 and never printed.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { isCloisterError, SealError } from "../../errors.js";
import { SealedFileCode } from "../../kms/file/codes.js";
import { KmsCode, KmsError } from "../../kms/codes.js";
import { openRegistration, signRegistration } from "../../kms/registration.js";
import { ownerSigner } from "../../kms/signed.js";
import { uploadShares, updateRegistration } from "../../kms/owner/upload.js";
import { inspectSealedFile } from "../../kms/file/open.js";
import { sealFile, sha256OfFile } from "../../kms/file/seal.js";
import { EXIT, type CliIO } from "../io.js";
import { open } from "node:fs/promises";
import { privateKeyToAccount } from "viem/accounts";
import { resolveDataDir } from "../../config/node-config.js";
import { CHAIN_USAGE, resolveAccount, resolveMarket } from "../../ledger/chain-config.js";
import type { EvmAddress } from "../../ledger/typed-data.js";
import { attestBroker, type BrokerTrust } from "../../kms/attest-broker.js";
import { brokerTrust, KMS_OWNER_OPTIONS, kmsUrls, readHexFile, readJsonFile } from "../kms-owner-flags.js";
import { createModelChain, type ModelChain } from "../../kms/chain/model-registry.js";
import { registerOnChain } from "../../kms/chain/register.js";

const USAGE = `usage: cloister model <command> [options]

  seal MODEL.gguf --out MODEL.sealed [--model-id ID] [--key-out FILE | --key FILE] [--chunk-size BYTES]
        encrypt a model under a random data key (written to --key-out, default MODEL.sealed.key, mode 0600)
  inspect FILE.sealed            show the sealed header (no key needed; not authenticated without it)
  keygen --out FILE              make an owner key (secp256k1; prints its address)
  register --sealed FILE --owner-key FILE --policy FILE --out REG.json [--threshold T] [--shares N]
        [--price AMOUNT] [--price-token TOKEN] [--royalty AMOUNT] [--royalty-recipient 0x…]
        [--lease-seconds S] [--sequence N] [--revoke 0xNODE ...] [--previous OLD.json [--reshare]]
        sign the model's registration: hashes, price and royalty (per million tokens), and the
        policy of which nodes may get the key (src/attest policy JSON, required). --previous makes the
        next version of OLD.json (sequence + 1, same split: send it with \`update\`); with --reshare a
        new split, to \`upload\` to a new set of brokers (replaces a lost broker; old shares stop counting)
  upload --registration REG.json --key FILE --kms URL,URL,... [--kms-policy FILE] [--allow-simulated-kms]
        attest each broker, split the key t-of-n, seal share i to broker i's attested key
  update --registration REG.json --kms URL,... [--kms-policy FILE] [--allow-simulated-kms]
        send a newer registration (policy change, revocation) to the brokers

 On the market's chain (--chain, or --market/--chain-rpc, or env CLOISTER_MARKET/CLOISTER_CHAIN_RPC):
  register ... --chain --kms URL,... [--royalty-bps N] [--policy-uri URI]
        also register on chain (ModelRegistry: hashes, price, royalty share, the brokers attested
        at --kms, the signed document's digest) and set the royalty in the Escrow; sent from the
        owner key (fund it). On chain the price token is "native" (default) or an ERC-20 address
  revoke --model-id ID --node 0xNODE --owner-key FILE [--undo]
        revoke a node on chain: brokers refuse its next renewal, so it loses the key within one lease
  releases --model-id ID        list the KeyReleased events (broker, node, share, lease end, tx)
${CHAIN_USAGE}`;

async function fileHash(path: string): Promise<string> {
  const fh = await open(path, "r");
  try {
    return await sha256OfFile(fh);
  } finally {
    await fh.close();
  }
}

export async function modelCommand(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || sub === "--help" || sub === "-h") {
    io.out(USAGE);
    return sub ? EXIT.ok : EXIT.usage;
  }
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (cause) {
    io.err(`${cause instanceof Error ? cause.message : String(cause)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const v = parsed.values;
  const p = (x: string | undefined): string | undefined => (x === undefined ? undefined : resolve(io.cwd, x));
  const need = (x: string | undefined, flag: string): string => {
    if (!x) throw new KmsError(KmsCode.KMS_BAD_REQUEST, `model ${sub} needs ${flag}`);
    return x;
  };
  const trust = (): BrokerTrust => brokerTrust(v, io.cwd);
  const chainWanted = v.chain === true || v.market !== undefined || v["chain-rpc"] !== undefined || io.env["CLOISTER_MARKET"] !== undefined || io.env["CLOISTER_CHAIN_RPC"] !== undefined;
  /** The owner's chain handle, sending from the owner key (a --chain-key-file, if given, must be that key). */
  const ownerChain = (ownerKeyHex?: string): ModelChain => {
    const market = resolveMarket(v, io.env, io.cwd, resolveDataDir(v["data-dir"], io.env, io.cwd));
    const given = resolveAccount(v, io.env, io.cwd);
    const account = ownerKeyHex ? privateKeyToAccount(`0x${ownerKeyHex.trim().replace(/^0x/, "")}` as `0x${string}`) : given;
    if (given && account && given.address !== account.address) throw new KmsError(KmsCode.KMS_BAD_REQUEST, "the chain key is not the owner key: the model's on-chain owner must be the document's owner");
    return createModelChain({ market, ...(account ? { account } : {}) });
  };
  const kmsList = (): string[] => kmsUrls(v, `model ${sub}`);
  try {
    switch (sub) {
      case "seal": {
        const input = resolve(io.cwd, need(parsed.positionals[0], "MODEL.gguf"));
        const out = resolve(io.cwd, need(v.out, "--out FILE"));
        const dataKey = v.key ? readHexFile(resolve(io.cwd, v.key), 32, "data key") : randomBytes(32);
        const keyOut = p(v["key-out"]) ?? `${out}.key`;
        // The key is written first: a sealed file whose key was lost could never be opened.
        if (!v.key) {
          try {
            writeFileSync(keyOut, `${Buffer.from(dataKey).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
          } catch (cause) {
            throw new SealError(SealedFileCode.SEALED_IO, `cannot create the data key file ${keyOut} (it must not exist yet)`, { cause });
          }
        }
        const modelId = v["model-id"] ?? basename(input).replace(/\.gguf$/i, "");
        const { header, sealedSha256 } = await sealFile(input, out, { dataKey, modelId, ...(v["chunk-size"] ? { chunkSize: Number(v["chunk-size"]) } : {}) });
        io.out(JSON.stringify({ sealed: out, sealed_sha256: sealedSha256, ...(v.key ? {} : { data_key_file: keyOut }), header }, null, 2));
        return EXIT.ok;
      }
      case "inspect": {
        const info = await inspectSealedFile(resolve(io.cwd, need(parsed.positionals[0], "FILE.sealed")));
        io.out(JSON.stringify({ header: info.header, file_length: info.fileLength, expected_length: info.expectedLength, authenticated: false, note: "the header is authenticated only when opened with the data key" }, null, 2));
        return info.fileLength === info.expectedLength ? EXIT.ok : EXIT.failed;
      }
      case "keygen": {
        const out = resolve(io.cwd, need(v.out, "--out FILE"));
        const sk = Buffer.from(secp256k1.utils.randomSecretKey());
        const owner = ownerSigner(sk.toString("hex"));
        writeFileSync(out, `${sk.toString("hex")}\n`, { mode: 0o600, flag: "wx" });
        io.out(JSON.stringify({ owner_key_file: out, owner: owner.address }));
        return EXIT.ok;
      }
      case "register": {
        const sealedPath = resolve(io.cwd, need(v.sealed, "--sealed FILE"));
        const owner = ownerSigner(readFileSync(resolve(io.cwd, need(v["owner-key"], "--owner-key FILE")), "utf8"));
        const { header } = await inspectSealedFile(sealedPath);
        // --previous: the next version of that registration (same split unless --reshare).
        const prev = v.previous ? openRegistration(readJsonFile(resolve(io.cwd, v.previous))).registration : null;
        if (prev && (prev.key_id !== header.key_id || prev.owner !== owner.address)) throw new KmsError(KmsCode.KMS_BAD_REQUEST, "--previous is a registration of another sealed file or owner");
        const price = v.price ?? "0";
        let royalty = v.royalty ?? "0";
        if (v["royalty-bps"] !== undefined) {
          const bps = BigInt(/^\d+$/.test(v["royalty-bps"]) ? v["royalty-bps"] : "-1");
          if (bps < 0n || (BigInt(price) * bps) % 10_000n !== 0n) throw new KmsError(KmsCode.KMS_BAD_REQUEST, "--royalty-bps must be a whole number of basis points that divides the price exactly");
          royalty = ((BigInt(price) * bps) / 10_000n).toString();
        }
        const doc = signRegistration(owner, {
          model_id: header.model_id,
          sequence: Number(v.sequence ?? String((prev?.sequence ?? 0) + 1)),
          issued_at: new Date().toISOString(),
          sealed_sha256: await fileHash(sealedPath),
          plaintext_sha256: header.plaintext_sha256,
          plaintext_size: header.plaintext_size,
          key_id: header.key_id,
          split_id: prev && !v.reshare ? prev.split_id : randomBytes(16).toString("hex"),
          threshold: Number(v.threshold ?? "2"),
          shares: Number(v.shares ?? "3"),
          price: { token: v["price-token"] ?? (chainWanted ? "native" : "USDC"), per_million_tokens: price },
          royalty: { recipient: (v["royalty-recipient"] ?? owner.address).toLowerCase(), per_million_tokens: royalty },
          // Which nodes may get the key is the owner's decision: there is no default policy.
          policy: readJsonFile(resolve(io.cwd, need(v.policy, "--policy FILE (which nodes may receive the key)"))) as Record<string, unknown>,
          lease_seconds: Number(v["lease-seconds"] ?? "600"),
          revoked_nodes: (v.revoke ?? []).map((a) => a.toLowerCase()),
        });
        writeFileSync(resolve(io.cwd, need(v.out, "--out FILE")), `${JSON.stringify(doc, null, 2)}\n`, { flag: "w" });
        if (!chainWanted) {
          io.out(JSON.stringify({ registration: v.out, model_id: header.model_id, owner: owner.address }));
          return EXIT.ok;
        }
        // On chain: list the brokers the owner attested now, so only their release events count.
        const brokers = await Promise.all(kmsList().map(async (u) => (await attestBroker(u, trust())).signingAddress.toLowerCase() as EvmAddress));
        const chain = ownerChain(readFileSync(resolve(io.cwd, need(v["owner-key"], "--owner-key FILE")), "utf8"));
        const onChain = await registerOnChain(chain, openRegistration(doc), brokers, v["policy-uri"] ?? "");
        io.out(JSON.stringify({ registration: v.out, model_id: header.model_id, owner: owner.address, chain: { chain_id: chain.chainId, model_registry: chain.address, brokers, ...onChain } }, null, 2));
        return EXIT.ok;
      }
      case "upload": {
        const registration = readJsonFile(resolve(io.cwd, need(v.registration, "--registration FILE")));
        const dataKey = readHexFile(resolve(io.cwd, need(v.key, "--key FILE")), 32, "data key");
        const out = await uploadShares({ registration: registration as never, dataKey, brokers: kmsList(), trust: trust() });
        io.out(JSON.stringify({ uploaded: out }, null, 2));
        if (out.some((o) => o.simulated)) io.out("SIMULATED broker(s): their attestation proves nothing — development only");
        return EXIT.ok;
      }
      case "update": {
        const registration = readJsonFile(resolve(io.cwd, need(v.registration, "--registration FILE")));
        const out = await updateRegistration({ registration: registration as never, brokers: kmsList(), trust: trust() });
        io.out(JSON.stringify({ updated: out }, null, 2));
        return out.every((o) => o.ok) ? EXIT.ok : EXIT.failed;
      }
      case "revoke": {
        const node = need(v.node, "--node 0xNODE").toLowerCase();
        if (!/^0x[0-9a-f]{40}$/.test(node)) throw new KmsError(KmsCode.KMS_BAD_REQUEST, "--node must be a node's signing address");
        const chain = ownerChain(readFileSync(resolve(io.cwd, need(v["owner-key"], "--owner-key FILE")), "utf8"));
        const tx = await chain.setRevoked(need(v["model-id"], "--model-id ID"), node as EvmAddress, v.undo !== true);
        io.out(JSON.stringify({ model_id: v["model-id"], node, revoked: v.undo !== true, tx }));
        return EXIT.ok;
      }
      case "releases": {
        const events = await ownerChain().releases(need(v["model-id"], "--model-id ID"));
        io.out(JSON.stringify(events, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x), 2));
        return EXIT.ok;
      }
      default:
        io.err(`unknown model command: ${sub}\n\n${USAGE}`);
        return EXIT.usage;
    }
  } catch (e) {
    io.err(`cloister model ${sub}: ${isCloisterError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e)}`);
    return isCloisterError(e) && e.code === KmsCode.KMS_BAD_REQUEST ? EXIT.usage : EXIT.failed;
  }
}

const OPTIONS = {
  out: { type: "string" },
  "model-id": { type: "string" },
  "key-out": { type: "string" },
  key: { type: "string" },
  "chunk-size": { type: "string" },
  sealed: { type: "string" },
  "owner-key": { type: "string" },
  policy: { type: "string" },
  threshold: { type: "string" },
  shares: { type: "string" },
  price: { type: "string" },
  "price-token": { type: "string" },
  royalty: { type: "string" },
  "royalty-recipient": { type: "string" },
  "lease-seconds": { type: "string" },
  sequence: { type: "string" },
  revoke: { type: "string", multiple: true },
  previous: { type: "string" },
  reshare: { type: "boolean" },
  registration: { type: "string" },
  ...KMS_OWNER_OPTIONS,
  chain: { type: "boolean" },
  market: { type: "string" },
  "chain-rpc": { type: "string" },
  "chain-key-file": { type: "string" },
  "data-dir": { type: "string" },
  "royalty-bps": { type: "string" },
  "policy-uri": { type: "string" },
  node: { type: "string" },
  undo: { type: "boolean" },
} as const;
