// Ed25519 signatures: the browser's own WebCrypto where it has Ed25519 (Chromium, Firefox,
// Safari 17+), else the audited @noble/ed25519 we serve (static/vendor/noble-ed25519), strict
// RFC 8032 like the service's OpenSSL (zip215: false).

import { verifyAsync } from "../vendor/noble-ed25519/index.js";

let native; // Promise<boolean>: does this browser's WebCrypto verify Ed25519?
const imported = new Map(); // base64 of a raw key -> Promise<CryptoKey>

async function hasNative() {
  try {
    const key = await crypto.subtle.importKey("raw", new Uint8Array(32).fill(1), "Ed25519", false, [
      "verify",
    ]);
    await crypto.subtle.verify("Ed25519", key, new Uint8Array(64), new Uint8Array(1));
    return true;
  } catch {
    return false;
  }
}

/** Which implementation checks signatures here: "webcrypto" or "noble". */
export async function backend() {
  native ??= hasNative();
  return (await native) ? "webcrypto" : "noble";
}

/** True only for a valid signature; never throws. */
export async function verifyEd25519(publicRaw, message, signature) {
  if (publicRaw?.length !== 32 || signature?.length !== 64) return false;
  try {
    if ((await backend()) === "webcrypto") {
      const id = String.fromCharCode(...publicRaw);
      if (!imported.has(id)) {
        imported.set(id, crypto.subtle.importKey("raw", publicRaw, "Ed25519", false, ["verify"]));
      }
      return await crypto.subtle.verify("Ed25519", await imported.get(id), signature, message);
    }
    return await verifyAsync(signature, message, publicRaw, { zip215: false });
  } catch {
    return false;
  }
}

/** For tests and the benchmark: use @noble/ed25519 even where WebCrypto could. */
export function forceNoble() {
  native = Promise.resolve(false);
}
