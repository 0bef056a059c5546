// The trust list: label and snapshot keys with their status, signed by the pinned root key,
// versioned, with an expiry (docs/label-format.md). Python twin: ocop_verify/trustlist.py.

import { b64urlDecode, canonicalJson, detached, keyId, parseTime, utf8 } from "./encoding.js";
import { verifyEd25519 } from "./ed25519.js";

const STATUSES = new Set(["active", "retired", "compromised"]);
const LEGACY_TTL_MS = 30 * 86400000;

export class TrustListError extends Error {}

async function keys(entries, what) {
  if (!Array.isArray(entries)) throw new TrustListError(`${what} is not a list`);
  const out = new Map();
  for (const entry of entries) {
    if (entry?.kty !== "OKP" || entry?.crv !== "Ed25519") {
      throw new TrustListError(`${what}: not an Ed25519 JWK`);
    }
    let raw;
    try {
      raw = b64urlDecode(entry.x ?? "");
    } catch {
      throw new TrustListError(`${what}: bad public key`);
    }
    if (raw.length !== 32 || entry.kid !== (await keyId(raw))) {
      throw new TrustListError(`${what}: kid ${entry.kid} does not match its key`);
    }
    if (!STATUSES.has(entry["ocop:status"])) {
      throw new TrustListError(`${what}: key ${entry.kid} has no known status`);
    }
    if (out.has(entry.kid)) throw new TrustListError(`${what}: key ${entry.kid} listed twice`);
    out.set(entry.kid, { kid: entry.kid, publicKey: raw, status: entry["ocop:status"] });
  }
  return out;
}

/** The pinned root key: base64url of its 32 bytes, or {kid, public_key} as `flask keys root`
 * prints it. */
export async function parseRootKey(value) {
  const raw = b64urlDecode(typeof value === "object" ? (value?.public_key ?? "") : value);
  if (raw.length !== 32) throw new Error("an Ed25519 public key is 32 bytes");
  if (typeof value === "object" && value.kid !== (await keyId(raw))) {
    throw new Error("the root key's kid does not match its public key");
  }
  return raw;
}

/** The trust list once its root signature is checked; throws TrustListError otherwise. */
export async function loadTrustList(document, rootPublicKey) {
  let body;
  let signature;
  let signed;
  try {
    ({ body, signature } = detached(document));
    signed = utf8(canonicalJson(body));
  } catch {
    throw new TrustListError("the trust list cannot be read");
  }
  if (
    body.root_kid !== (await keyId(rootPublicKey)) ||
    !(await verifyEd25519(rootPublicKey, signed, signature))
  ) {
    throw new TrustListError("the trust list is not signed by the pinned root key");
  }
  if (!Number.isSafeInteger(body.version) || body.version < 1) {
    throw new TrustListError("the trust list has no valid version");
  }
  let issuedAt;
  let expiresAt;
  try {
    issuedAt = parseTime(body.issued_at);
    expiresAt =
      body.expires_at == null ? issuedAt + LEGACY_TTL_MS : parseTime(body.expires_at);
  } catch (error) {
    throw new TrustListError(error.message);
  }
  return {
    version: body.version,
    issuedAt,
    expiresAt,
    rootKid: body.root_kid,
    labelKeys: await keys(body.keys, "keys"),
    snapshotKeys: await keys(body.snapshot_keys ?? [], "snapshot_keys"),
  };
}
