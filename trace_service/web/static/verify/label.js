// The label URL (an upper-case GS1 Digital Link), its S number and the exact bytes the
// signature covers: docs/label-format.md. The Python twins are ocop_verify/label.py and the
// service's labels/payload.py; the published test vectors hold all three to one answer.

import { b64urlEncode } from "./encoding.js";

export const PAYLOAD_VERSION = "1";
const SIGNED_DIGITS = 174;
const SIGNED_LIMIT = 1n << 576n; // 8-byte key id + 64-byte signature
const DAY_ZERO = Date.UTC(2000, 0, 1);
export const SERIAL_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LOOPBACK = new Set(["127.0.0.1", "LOCALHOST"]);
const LABEL = "[A-Z0-9](?:[A-Z0-9-]*[A-Z0-9])?";
const BASE_RE = new RegExp(`^(HTTPS?)://(${LABEL}(?:\\.${LABEL})*)(?::([1-9][0-9]{0,4}))?$`);
const URL_RE = new RegExp(
  "^(?<base>[^/?#]*//[^/?#]*)" +
    "(?:/01/(?<gtin>[0-9]{14})|/P/(?<product>[1-9][0-9]{0,18}))" +
    "/10/(?<lot>[A-Za-z0-9._-]{1,20})/21/(?<serial>[0-9A-Z]{15})" +
    "\\?S=(?<data>[0-9]+)$",
);
const SCHEME_AND_HOST = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*)([\s\S]*)$/;
const NOT_IN_A_LINK = /[\x00-\x20\x7f]/; // space, control characters
const MAX_TEXT = 2000; // a shared link, with its unsigned parameters
const MAX_URL = 600; // the label URL once they are dropped

export class Malformed extends Error {}

// GF(32) with x^5 + x^2 + 1, for the serial's check character.
const EXP = new Array(62).fill(0);
const LOG = new Array(32).fill(0);
for (let power = 0, value = 1; power < 31; power++) {
  EXP[power] = EXP[power + 31] = value;
  LOG[value] = power;
  value <<= 1;
  if (value & 32) value ^= 0b100101;
}

export function checkChar(body) {
  let total = 0;
  for (let position = 0; position < body.length; position++) {
    const value = SERIAL_ALPHABET.indexOf(body[position]);
    if (value) total ^= EXP[LOG[value] + ((position + 1) % 31)];
  }
  return SERIAL_ALPHABET[total];
}

export function isSerial(text) {
  return (
    text.length === 15 &&
    [...text].every((ch) => SERIAL_ALPHABET.includes(ch)) &&
    checkChar(text.slice(0, -1)) === text.at(-1)
  );
}

/** The code as printed under the QR, in groups of five: "7K3M9-QXA2B-CDEF4". */
export const grouped = (serial) => serial.match(/.{1,5}/g).join("-");

/** Scheme and host in upper case, as printed (phones lower-case them); ASCII letters only. */
export function asPrinted(text) {
  const match = SCHEME_AND_HOST.exec(text);
  return match && /^[\x00-\x7f]*$/.test(match[1]) ? match[1].toUpperCase() + match[2] : text;
}

export function dayPlus(days) {
  return new Date(DAY_ZERO + days * 86400000).toISOString().slice(0, 10);
}

/** "01:<GTIN>" or "P:<product id>", as the message and the snapshot's recalls name it. */
export const productOf = (claims) =>
  claims.gtin ? `01:${claims.gtin}` : `P:${claims.productIdText}`;

/** The nine ASCII lines joined by LF that the Ed25519 signature covers. */
export function message(claims) {
  const lines = [
    `OCOP-LABEL/${PAYLOAD_VERSION}`,
    claims.base,
    claims.serial,
    productOf(claims),
    claims.lot,
    String(claims.star),
    String(claims.certificate_id),
    claims.valid_until,
    claims.kid,
  ];
  return new TextEncoder().encode(lines.join("\n"));
}

/** The text with its query cut down to the signed S parameter, as the label page reads a
 * shared link (fbclid, utm_…, a fragment: none signed); two S are Malformed. The twin of
 * signed_only in ocop_verify/label.py and the service's labels/payload.py. */
export function signedOnly(text) {
  const at = text.indexOf("?");
  if (NOT_IN_A_LINK.test(text) || at < 0) return text;
  const query = text.slice(at + 1).split("#")[0];
  const kept = query.split("&").filter((part) => part.split("=")[0] === "S");
  if (kept.length > 1) throw new Malformed("two S parameters");
  return kept.length ? `${text.slice(0, at)}?${kept[0]}` : text.slice(0, at);
}

/** {claims, signature} of a scanned text or a shared link; throws Malformed unless, after
 * asPrinted and signedOnly, it is exactly a label URL as printed. Does not check the
 * signature. */
export function parse(text) {
  const fail = (why) => {
    throw new Malformed(why);
  };
  if (typeof text !== "string" || text.length > MAX_TEXT) fail("not an OCOP label address");
  const printed = signedOnly(asPrinted(text));
  if (printed.length > MAX_URL) fail("not an OCOP label address");
  const match = URL_RE.exec(printed);
  if (!match) fail("not an OCOP label address");
  const { base, gtin, product, lot, serial, data } = match.groups;
  const host = BASE_RE.exec(base);
  if (!host || (host[1] === "HTTP" && !LOOPBACK.has(host[2]))) fail("scheme or host");
  if (host[3] !== undefined && Number(host[3]) > 65535) fail("port");
  if (data[0] !== PAYLOAD_VERSION) fail(`unknown label payload version ${data[0]}`);
  const certLen = data.length > 7 ? Number(data[7]) : 0;
  const signedText = data.slice(8 + certLen);
  if (
    certLen === 0 ||
    data.length !== 8 + certLen + SIGNED_DIGITS ||
    data[8] === "0" ||
    !"345".includes(data[1]) ||
    BigInt(signedText) >= SIGNED_LIMIT
  ) {
    fail("S");
  }
  if (!isSerial(serial)) fail("serial check character");
  let signed = BigInt(signedText);
  const bytes = new Uint8Array(72);
  for (let i = 71; i >= 0; i--) {
    bytes[i] = Number(signed & 255n);
    signed >>= 8n;
  }
  const claims = {
    base,
    serial,
    gtin: gtin ?? null,
    product_id: product ? Number(product) : null,
    productIdText: product ?? null,
    lot,
    star: Number(data[1]),
    certificate_id: Number(data.slice(8, 8 + certLen)),
    valid_until: dayPlus(Number(data.slice(2, 7))),
    kid: b64urlEncode(bytes.slice(0, 8)),
  };
  return { claims, signature: bytes.slice(8) };
}

/** The claims as the Python verifier reports them (Claims.to_json). */
export function claimsJson(claims) {
  const { productIdText, ...plain } = claims;
  return plain;
}
