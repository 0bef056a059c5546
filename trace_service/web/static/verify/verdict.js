// The verdict on a scanned text for a day, from a trust list and a snapshot alone: the same
// steps and answer as the Python verifier (ocop_verify/offline.py), field for field.
//   malformed -> unknown_key -> invalid_signature -> compromised_key -> genuine
// then, for genuine and compromised_key, the label, certificate, recall, product and producer
// the snapshot knows, the data's freshness, and one colour (green, amber, red).

import { claimsJson, Malformed, message, parse, productOf } from "./label.js";
import { certificateStatus } from "./snapshot.js";
import { verifyEd25519 } from "./ed25519.js";

const DAY_MS = 86400000;
const RED_CERTIFICATE = new Set(["expired", "revoked", "superseded", "pending"]);

export const HEADLINES = {
  genuine: ["Tem chính hãng · Sản phẩm OCOP còn hiệu lực", "Genuine OCOP stamp, certificate valid"],
  expiring: ["Tem chính hãng · Chứng nhận OCOP sắp hết hạn", "Genuine; certificate expiring"],
  possibly_copied: ["Tem có thể bị sao chép", "This stamp may have been copied"],
  expired: ["Chứng nhận OCOP đã hết hiệu lực", "The OCOP certificate has expired"],
  superseded: ["Chứng nhận OCOP đã được thay thế", "The OCOP certificate was replaced"],
  pending: ["Chứng nhận OCOP chưa có hiệu lực", "The OCOP certificate is not yet in force"],
  revoked: ["Chứng nhận OCOP đã bị thu hồi", "The OCOP certificate was revoked"],
  recalled: ["Sản phẩm bị thu hồi", "Recalled"],
  voided: ["Tem đã hủy", "Stamp voided"],
  unknown_certificate: [
    "Tem chính hãng · Chưa có dữ liệu chứng nhận, hãy cập nhật",
    "Genuine stamp; no certificate data: update",
  ],
  no_data: [
    "Tem chính hãng · Chưa kiểm tra được tình trạng, hãy cập nhật dữ liệu",
    "Genuine stamp; status unknown: update the data",
  ],
  compromised_key: ["Không xác nhận được tem này (khóa ký bị lộ)", "Could not be confirmed"],
  not_confirmed: ["Không xác nhận được tem này", "This stamp could not be confirmed"],
};

/** The calendar day in Vietnam (UTC+7, no daylight saving) at `now` (ms). */
export const vietnamDay = (now) => new Date(now + 7 * 3600000).toISOString().slice(0, 10);

/** Why the data may be out of date at `now` (ms, the device's clock), or null. */
export function freshness(trustList, snapshot, now) {
  if (!snapshot) return "no_snapshot";
  if (now < snapshot.issuedAt) return "clock_before_data";
  if (now - snapshot.issuedAt > snapshot.staleAfterDays * DAY_MS) return "old";
  if (now > trustList.expiresAt) return "trust_list_expired";
  return null;
}

function facts(claims, snapshot, day) {
  if (!snapshot) {
    return {
      certificate_status: day > claims.valid_until ? "expired" : "unknown",
      valid_until: claims.valid_until,
    };
  }
  const out = { label_state: "issued", valid_until: claims.valid_until };
  const voided = snapshot.voided.get(claims.serial);
  const flagged = snapshot.flagged.get(claims.serial);
  if (voided !== undefined && voided <= day) {
    Object.assign(out, { label_state: "voided", label_since: voided });
  } else if (flagged !== undefined && flagged <= day) {
    Object.assign(out, { label_state: "possibly_copied", label_since: flagged });
  }
  const cert = Object.hasOwn(snapshot.certificates, String(claims.certificate_id))
    ? snapshot.certificates[String(claims.certificate_id)]
    : undefined;
  if (cert === undefined) {
    out.certificate_status = day > claims.valid_until ? "expired" : "unknown";
  } else {
    const producer = Object.hasOwn(snapshot.producers, String(cert.producer_id))
      ? snapshot.producers[String(cert.producer_id)].name
      : null;
    Object.assign(out, {
      certificate_status: certificateStatus(day, cert, snapshot.expiringWindowDays),
      certificate_number: cert.number,
      product_name: cert.product_name,
      producer_name: producer,
    });
  }
  const key = `${productOf(claims)}/${claims.lot}`;
  const recall = Object.hasOwn(snapshot.recalls, key) ? snapshot.recalls[key] : undefined;
  if (recall !== undefined && recall.since <= day) {
    Object.assign(out, {
      recalled_since: recall.since,
      recall_decision: recall.decision ?? null,
      recall_reason: recall.reason,
    });
  }
  return out;
}

function sumUp(verdict, f, stale) {
  if (verdict === "compromised_key") return ["red", "compromised_key"];
  if (verdict !== "genuine") return ["red", "not_confirmed"];
  if (f.label_state === "voided") return ["red", "voided"];
  if (f.recalled_since) return ["red", "recalled"];
  if (RED_CERTIFICATE.has(f.certificate_status)) return ["red", f.certificate_status];
  if (f.label_state === "possibly_copied") return ["amber", "possibly_copied"];
  if (stale === "no_snapshot") return ["amber", "no_data"];
  if (f.certificate_status === "unknown") return ["amber", "unknown_certificate"];
  return [stale ? "amber" : "green", f.certificate_status === "expiring" ? "expiring" : "genuine"];
}

/** The verdict on `text` on day `asOf` ("YYYY-MM-DD", default Vietnam's day at `now`), with
 * freshness judged at `now` (ms). Never throws for what a scan can contain. The answer has
 * exactly the fields of the Python verifier's Result.to_json(). */
export async function verify(text, trustList, snapshot, { now = Date.now(), asOf = null } = {}) {
  const day = asOf ?? vietnamDay(now);
  const stale = freshness(trustList, snapshot, now);
  let parsed = null;
  try {
    parsed = parse(text);
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
  }
  let verdict = "malformed";
  let key = null;
  if (parsed) {
    key = trustList.labelKeys.get(parsed.claims.kid) ?? null;
    if (!key) verdict = "unknown_key";
    else if (!(await verifyEd25519(key.publicKey, message(parsed.claims), parsed.signature))) {
      verdict = "invalid_signature";
    } else verdict = key.status === "compromised" ? "compromised_key" : "genuine";
  }
  const f =
    verdict === "genuine" || verdict === "compromised_key" ? facts(parsed.claims, snapshot, day) : {};
  const [colour, headline] = sumUp(verdict, f, stale);
  return {
    verdict,
    colour,
    headline,
    message: HEADLINES[headline][0],
    message_en: HEADLINES[headline][1],
    as_of: day,
    claims: parsed ? claimsJson(parsed.claims) : null,
    key_status: key ? key.status : null,
    label_state: f.label_state ?? null,
    label_since: f.label_since ?? null,
    certificate_status: f.certificate_status ?? null,
    certificate_number: f.certificate_number ?? null,
    valid_until: f.valid_until ?? null,
    recalled: Boolean(f.recalled_since),
    recalled_since: f.recalled_since ?? null,
    recall_decision: f.recall_decision ?? null,
    recall_reason: f.recall_reason ?? null,
    product_name: f.product_name ?? null,
    producer_name: f.producer_name ?? null,
    data_at: snapshot ? snapshot.issuedAtText : null,
    stale,
  };
}
