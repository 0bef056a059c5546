// Test-only: drives the browser verifier's modules for tests/verify/test_browser.py and
// bench/verify_browser_bench.py (served by those alone, never by the application).

import { backend, forceNoble } from "/static/verify/ed25519.js";
import { loadTrustList, parseRootKey } from "/static/verify/trustlist.js";
import { applyDelta, loadSnapshot } from "/static/verify/snapshot.js";
import { verify } from "/static/verify/verdict.js";
import { decodeQr } from "/static/verify/qr.js";

const state = {};
const ms = (iso) => Date.parse(iso);

async function setup(vectors) {
  state.vectors = vectors;
  state.root = await parseRootKey(vectors.root_public_key);
  state.trustList = await loadTrustList(vectors.trust_list, state.root);
  return true;
}

async function snapshotAt(now) {
  return loadSnapshot(state.vectors.snapshot, state.trustList, now);
}

/** cases: [{input, now?, as_of?, snapshot?}] -> the verdicts, as Result.to_json(). */
async function verifyAll(cases) {
  const out = [];
  for (const c of cases) {
    const now = ms(c.now ?? state.vectors.now);
    const snapshot = c.snapshot === false ? null : await snapshotAt(now);
    out.push(await verify(c.input, state.trustList, snapshot, { now, asOf: c.as_of ?? null }));
  }
  return out;
}

/** The published document vectors -> accepted (true) or refused (false), each. */
async function documents() {
  const out = [];
  for (const c of state.vectors.documents) {
    const now = ms(c.now ?? state.vectors.now);
    try {
      if (c.trust_list) {
        const list = await loadTrustList(c.trust_list, state.root);
        if (c.expires_at && list.expiresAt !== ms(c.expires_at)) throw new Error("expiry");
      } else {
        const document = c.delta ? applyDelta(c.snapshot, c.delta) : c.snapshot;
        await loadSnapshot(document, state.trustList, now, c.held_version ?? null);
      }
      out.push(true);
    } catch (error) {
      out.push(false);
    }
  }
  return out;
}

async function decode(base64) {
  const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  return decodeQr(new Blob([bytes], { type: "image/png" }));
}

/** Milliseconds from decoded text to verdict, `n` times (snapshot loaded beforehand). */
async function timeVerify(text, n) {
  const now = ms(state.vectors.now);
  const snapshot = await snapshotAt(now);
  const times = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await verify(text, state.trustList, snapshot, { now });
    times.push(performance.now() - start);
  }
  return times;
}

/** Milliseconds to check and index a snapshot document (signature included). */
async function timeLoad(document, trustList, n) {
  const list = await loadTrustList(trustList, state.root);
  const times = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await loadSnapshot(document, list, Date.parse(document.issued_at) + 1000);
    times.push(performance.now() - start);
  }
  return times;
}

window.harness = { setup, verifyAll, documents, decode, timeVerify, timeLoad, backend, forceNoble };
document.body.dataset.ready = "yes";
