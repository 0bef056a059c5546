// The snapshot: what judging a stamp needs with no network, signed by a snapshot key the trust
// list names, versioned, with an expiry; deltas are RFC 7386 merge patches carrying the next
// version's signature (docs/label-format.md). Python twin: ocop_verify/snapshot.py.

import { canonicalJson, detached, parseDay, parseTime, utf8 } from "./encoding.js";
import { verifyEd25519 } from "./ed25519.js";

export const FORMAT = "ocop-snapshot/1";
export const DELTA_FORMAT = "ocop-snapshot-delta/1";

export class SnapshotError extends Error {}

/** A certificate's status on `day` ("YYYY-MM-DD"), from its dates. */
export function certificateStatus(day, cert, windowDays) {
  if (cert.revoked_on && cert.revoked_on <= day) return "revoked";
  if (cert.superseded_on && cert.superseded_on <= day) return "superseded";
  if (day < cert.issued_on) return "pending";
  if (day > cert.valid_until) return "expired";
  const left = (Date.parse(cert.valid_until) - Date.parse(day)) / 86400000;
  return left <= windowDays ? "expiring" : "valid";
}

export function mergePatch(target, patch) {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const result =
    target !== null && typeof target === "object" && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    // "__proto__" would set the object's prototype, unseen by the signature (which covers
    // own fields only): a tampered delta could then change verdicts and still verify.
    if (key === "__proto__") throw new SnapshotError("a snapshot delta may not name __proto__");
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** The next signed snapshot from the one held and a delta; check it with loadSnapshot. */
export function applyDelta(old, delta) {
  if (delta?.format !== DELTA_FORMAT) throw new SnapshotError("not a snapshot delta");
  if (delta.from_version !== old.version || typeof delta.patch !== "object" || !delta.patch) {
    throw new SnapshotError("this delta does not start from the snapshot held");
  }
  const { signature, ...body } = old;
  const next = mergePatch(body, delta.patch);
  if (next.version !== delta.version || !(delta.version > old.version)) {
    throw new SnapshotError("the delta's version does not match its patch, or is not newer");
  }
  return { ...next, signature: delta.signature };
}

const whole = (value, low, high) => {
  if (!Number.isSafeInteger(value) || value < low || value > high) throw new Error("number");
  return value;
};

function indexMarks(groups) {
  const index = new Map();
  for (const [day, serials] of Object.entries(groups)) {
    parseDay(day);
    if (!Array.isArray(serials)) throw new Error("serials");
    for (const serial of serials) index.set(serial, day);
  }
  return index;
}

function checkCertificates(certificates) {
  for (const [id, c] of Object.entries(certificates)) {
    if (!/^[1-9][0-9]{0,18}$/.test(id)) throw new Error("certificate id");
    for (const name of ["issued_on", "valid_until"]) parseDay(c[name]);
    for (const name of ["revoked_on", "superseded_on"]) if (c[name] != null) parseDay(c[name]);
    if (typeof c.product_name !== "string" || typeof c.number !== "string") {
      throw new Error("certificate");
    }
  }
  return certificates;
}

/** A snapshot checked before it is trusted: signed by a snapshot key of the trust list (not
 * compromised), made with that trust list or an older one, not expired at `now` (ms), not
 * older than the version held. Throws SnapshotError saying why. */
export async function loadSnapshot(document, trustList, now, heldVersion = null) {
  if (document?.format !== FORMAT) throw new SnapshotError("not an OCOP snapshot");
  let body;
  let signature;
  let signed;
  try {
    ({ body, signature } = detached(document));
    signed = utf8(canonicalJson(body));
  } catch {
    throw new SnapshotError("the snapshot cannot be read");
  }
  const key = trustList.snapshotKeys.get(body.kid);
  if (!key) throw new SnapshotError("the snapshot is signed by a key the trust list does not name");
  if (key.status === "compromised") {
    throw new SnapshotError("the snapshot is signed by a compromised key");
  }
  if (!(await verifyEd25519(key.publicKey, signed, signature))) {
    throw new SnapshotError("the snapshot's signature is not valid");
  }
  let snapshot;
  try {
    snapshot = {
      document,
      version: whole(body.version, 1, Number.MAX_SAFE_INTEGER),
      issuedAtText: body.issued_at,
      issuedAt: parseTime(body.issued_at),
      expiresAt: parseTime(body.expires_at),
      kid: body.kid,
      trustListVersion: whole(body.trust_list_version, 1, Number.MAX_SAFE_INTEGER),
      expiringWindowDays: whole(body.rules.expiring_window_days, 0, 3650),
      staleAfterDays: whole(body.rules.stale_after_days, 1, 3650),
      producers: body.producers,
      certificates: checkCertificates(body.certificates),
      recalls: body.recalls,
      voided: indexMarks(body.voided),
      flagged: indexMarks(body.flagged),
    };
    for (const recall of Object.values(body.recalls)) parseDay(recall.since);
  } catch (error) {
    throw new SnapshotError(`the snapshot is signed but not well formed: ${error.message}`);
  }
  if (heldVersion !== null && snapshot.version < heldVersion) {
    throw new SnapshotError(
      `the snapshot (version ${snapshot.version}) is older than the one held (${heldVersion})`,
    );
  }
  if (snapshot.trustListVersion > trustList.version) {
    throw new SnapshotError("the snapshot was made with a newer trust list: update it first");
  }
  if (now > snapshot.expiresAt) throw new SnapshotError(`the snapshot expired at ${body.expires_at}`);
  return snapshot;
}
