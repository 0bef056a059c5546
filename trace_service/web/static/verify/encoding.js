// The encodings every signed OCOP document shares (docs/label-format.md): base64url without
// padding, key ids, canonical JSON (RFC 8785 for the values our documents hold) and SHA-256.
// The Python twin is ocop_verify/encoding.py.

const B64URL = /^[A-Za-z0-9_-]*$/;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

export function b64urlEncode(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = [18, 12, 6, 0].map((shift) => ALPHABET[(n >> shift) & 63]);
    text += chars.slice(0, Math.min(4, bytes.length - i + 1)).join("");
  }
  return text;
}

/** Strict base64url without padding, canonical (no stray bits); throws on anything else. */
export function b64urlDecode(text) {
  if (typeof text !== "string" || !B64URL.test(text) || text.length % 4 === 1) {
    throw new Error("not base64url without padding");
  }
  const bytes = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const ch of text) {
    value = (value << 6) | ALPHABET.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[at++] = (value >> bits) & 255;
    }
  }
  if ((value & ((1 << bits) - 1)) !== 0) throw new Error("not canonical base64url");
  return bytes;
}

export const utf8 = (text) => new TextEncoder().encode(text);

/** What signatures over JSON cover: keys sorted, no spaces, strings as JSON.stringify
 * writes them (the same bytes as Python's json.dumps(ensure_ascii=False)), whole numbers. */
export function canonicalJson(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error("signed documents hold whole numbers");
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  throw new Error("not a JSON value");
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** First 8 bytes of SHA-256 of the raw public key, base64url (11 characters). */
export async function keyId(publicRaw) {
  return b64urlEncode((await sha256(publicRaw)).slice(0, 8));
}

/** The document without its "signature" member, and that signature's bytes. */
export function detached(document) {
  if (document === null || typeof document !== "object" || Array.isArray(document)) {
    throw new Error("not a JSON object");
  }
  const { signature, ...body } = document;
  return { body, signature: b64urlDecode(signature ?? "") };
}

/** An ISO 8601 time with its offset, as milliseconds; throws for anything else. */
export function parseTime(text) {
  const ok =
    typeof text === "string" &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/.test(text);
  const ms = ok ? Date.parse(text.replace(/(\.\d{3})\d+/, "$1")) : NaN;
  if (Number.isNaN(ms)) throw new Error("not a time with a UTC offset");
  return ms;
}

/** A calendar date "YYYY-MM-DD" (checked), as given. */
export function parseDay(text) {
  if (typeof text !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(text)) throw new Error("not a date");
  const [y, m, d] = text.split("-").map(Number);
  const back = new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10);
  if (back !== text) throw new Error("not a date");
  return text;
}
