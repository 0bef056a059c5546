// The inspectors' offline page: keeps a checked trust list and snapshot on the device (updated
// on each online visit, by delta where it can), reads a stamp's QR from the camera, a photo or
// pasted text, and shows the verdict the shared verifier (static/verify/*.js) gives, with the
// data's time. Nothing leaves the device to check a stamp.

import { loadTrustList, parseRootKey } from "/static/verify/trustlist.js";
import { applyDelta, loadSnapshot } from "/static/verify/snapshot.js";
import { verify } from "/static/verify/verdict.js";
import { decodeQr } from "/static/verify/qr.js";
import { grouped } from "/static/verify/label.js";
import { deviceUser, keep as keepRecord, queued, sendQueued, signIn, signOut, unsent } from "./inspections.js";

// The last trust list and snapshot that checked (not named "ocop-kiem-tra-vien-…": the
// service worker clears those when a new release comes).
const DATA_CACHE = "ocop-held-data";
const HELD = "/kiem-tra-vien/held/";
const ICONS = { green: "✓", amber: "!", red: "✕" };

const app = document.getElementById("app");
const texts = {};
for (const span of document.getElementById("texts").content.querySelectorAll("[data-key]")) {
  texts[span.dataset.key] = span.textContent;
}
const state = { root: null, trustList: null, snapshot: null, last: null };

// --- keeping and updating the data ------------------------------------------------------

async function held(name) {
  const cache = await caches.open(DATA_CACHE);
  const response = await cache.match(HELD + name);
  return response ? response.json() : null;
}

async function keep(name, document) {
  const cache = await caches.open(DATA_CACHE);
  const body = JSON.stringify(document);
  await cache.put(HELD + name, new Response(body, { headers: { "Content-Type": "application/json" } }));
}

async function fetchJson(url) {
  const response = await fetch(url, { cache: "no-cache" });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

async function tryLoad(load) {
  try {
    return await load();
  } catch {
    return null;
  }
}

/** The newest trust list that checks with the pinned root key: fetched, else the one kept. */
async function updateTrustList() {
  const keptDoc = await held("trust-list.json");
  const kept = keptDoc ? await tryLoad(() => loadTrustList(keptDoc, state.root)) : null;
  try {
    const document = await fetchJson("/.well-known/ocop-trust-list.json");
    const fresh = await loadTrustList(document, state.root);
    if (!kept || fresh.version >= kept.version) {
      await keep("trust-list.json", document);
      return [fresh, true];
    }
  } catch {
    // no network or a refused list: the one kept stands
  }
  return [kept, false];
}

/** The delta from the snapshot held to the latest, applied and checked; null if none fits. */
async function byDelta(keptDoc, kept, now) {
  const response = await fetch(`/offline/snapshot-delta/${kept.version}.json`, { cache: "no-cache" });
  if (response.status === 204) return keptDoc;
  if (!response.ok) return null;
  const next = applyDelta(keptDoc, await response.json());
  await loadSnapshot(next, state.trustList, now, kept.version);
  return next;
}

/** The newest snapshot that checks against the trust list: updated, else the one kept. */
async function updateSnapshot() {
  const now = Date.now();
  const keptDoc = await held("snapshot.json");
  const kept = keptDoc ? await tryLoad(() => loadSnapshot(keptDoc, state.trustList, now)) : null;
  try {
    let document = kept ? await tryLoad(() => byDelta(keptDoc, kept, now)) : null;
    document ??= await fetchJson("/offline/snapshot.json");
    const fresh = await loadSnapshot(document, state.trustList, now, keptDoc?.version ?? null);
    if (document !== keptDoc) await keep("snapshot.json", document);
    return [fresh, true];
  } catch {
    return [kept, false];
  }
}

// --- showing -----------------------------------------------------------------------------

function element(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

const pad = (n) => String(n).padStart(2, "0");

/** "HH:MM dd/mm/yyyy" in Vietnam's time (UTC+7). */
function vietnamTime(ms) {
  const d = new Date(ms + 7 * 3600000);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} ${pad(d.getUTCDate())}/${pad(
    d.getUTCMonth() + 1,
  )}/${d.getUTCFullYear()}`;
}

const vietnamDate = (iso) => (iso ? iso.split("-").reverse().join("/") : "—");

function dataLine(stale) {
  const when = state.snapshot ? `${texts.data_at} ${vietnamTime(state.snapshot.issuedAt)}` : "";
  const why = stale === "old" ? texts.old.replace("%s", app.dataset.staleDays) : texts[stale];
  return [when, why].filter(Boolean).join(" · ");
}

function showDataStatus(message) {
  const status = document.getElementById("data-status");
  const stale = state.snapshot ? null : "no_data";
  status.textContent = [message, dataLine(stale)].filter(Boolean).join(" ");
}

function facts(answer) {
  const claims = answer.claims ?? {};
  const rows = [
    [texts.product, answer.product_name],
    [texts.producer, answer.producer_name],
    [texts.star, claims.star ? "★".repeat(claims.star) : null],
    [texts.certificate, answer.certificate_number],
    [texts.valid_until, answer.valid_until ? vietnamDate(answer.valid_until) : null],
    [texts.recall, answer.recalled ? `${vietnamDate(answer.recalled_since)} ${answer.recall_reason ?? ""}` : null],
    [texts.code, claims.serial ? grouped(claims.serial) : null],
    [texts.lot, claims.lot],
  ].filter(([, value]) => value);
  return element("dl", {}, rows.flatMap(([dt, dd]) => [element("dt", { textContent: dt }), element("dd", { textContent: dd })]));
}

// The verifier's words (genuine, active...) in the page's language; an unknown one as it is.
const named = (prefix, word) => (word ? (texts[`${prefix}_${word}`] ?? word) : "—");

function details(answer) {
  const technical = [
    [texts.verdict, named("signature", answer.verdict)],
    [texts.key_status, named("key", answer.key_status)],
  ];
  const list = element("dl", {}, technical.flatMap(([dt, dd]) => [element("dt", { textContent: dt }), element("dd", { textContent: dd })]));
  return element("details", { className: "technical" }, [element("summary", { textContent: texts.details }), list]);
}

function show(answer) {
  const result = document.getElementById("result");
  const verdict = element("div", { className: `verdict v-${answer.colour}`, role: "alert" }, [
    element("span", { className: "icon", textContent: ICONS[answer.colour], ariaHidden: "true" }),
    element("div", {}, [
      // One language, the page's: the verdict is read in a second.
      element("p", {
        className: "title",
        textContent: document.documentElement.lang === "en" ? answer.message_en : answer.message,
      }),
      element("p", { textContent: texts[`next_${answer.colour}`] }),
      element("p", { className: "data-at", textContent: dataLine(answer.stale) }),
    ]),
  ]);
  verdict.dataset.verdict = answer.verdict;
  verdict.dataset.colour = answer.colour;
  // What a stamp claims is shown only when its signature holds: a forgery's claims are no facts.
  const shown = answer.verdict === "genuine" ? [facts(answer), details(answer)] : [details(answer)];
  result.replaceChildren(verdict, element("div", { className: "card" }, shown));
  state.last = answer;
  document.getElementById("record").hidden = false;
  document.getElementById("result-message").hidden = true;
  document.getElementById("record-saved").hidden = true;
  result.focus({ preventScroll: true });
  result.scrollIntoView({ block: "start" });
}

// The longest scanned text the service judges (labels/verify_response.py MAX_SCANNED_CHARS).
const MAX_SCANNED = 2000;

// The code printed under the QR (three groups of five): no signature is in it.
const PRINTED_CODE = /^[0-9A-Z]{5}[\s-]?[0-9A-Z]{5}[\s-]?[0-9A-Z]{5}$/i;

function showPrintedCode() {
  const result = document.getElementById("result");
  const note = element("div", { className: "verdict v-amber", role: "alert" }, [
    element("span", { className: "icon", textContent: ICONS.amber, ariaHidden: "true" }),
    element("div", {}, [element("p", { className: "title", textContent: texts.printed_code })]),
  ]);
  note.dataset.verdict = "printed_code";
  note.dataset.colour = "amber";
  result.replaceChildren(note);
  result.focus({ preventScroll: true });
  result.scrollIntoView({ block: "start" });
}

async function check(text) {
  if (PRINTED_CODE.test(text.trim())) {
    showPrintedCode();
    return;
  }
  if (!state.trustList) {
    showDataStatus(state.root ? texts.no_data : texts.no_root);
    return;
  }
  const answer = await verify(text.trim(), state.trustList, state.snapshot, { now: Date.now() });
  show({ ...answer, scanned: text.trim() }); // the record sends the text: the service judges it too
}

// --- reading a QR ------------------------------------------------------------------------

async function fromPhoto(event) {
  const message = document.getElementById("photo-message");
  const file = event.target.files?.[0];
  if (!file) return;
  message.textContent = "";
  const found = await tryLoad(() => decodeQr(file));
  if (!found?.length) {
    message.textContent = texts.no_qr;
    return;
  }
  // A shelf or a sheet of stamps: say that the verdict is one code's, not the picture's.
  if (found.length > 1) message.textContent = texts.photo_many.replace("%s", String(found.length));
  await check(found[0]);
}

const camera = { stream: null, timer: null };

function stopCamera() {
  clearTimeout(camera.timer);
  camera.stream?.getTracks().forEach((track) => track.stop());
  camera.stream = null;
  document.getElementById("camera").hidden = true;
  document.getElementById("camera-stop").hidden = true;
  document.getElementById("camera-start").hidden = false;
}

async function scanFrame(video, canvas) {
  if (!camera.stream) return;
  if (video.videoWidth) {
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(video, 0, 0);
    const found = await tryLoad(() => decodeQr(context.getImageData(0, 0, canvas.width, canvas.height)));
    if (found?.length) {
      stopCamera();
      await check(found[0]);
      return;
    }
  }
  camera.timer = setTimeout(() => scanFrame(video, canvas), 250);
}

async function startCamera() {
  const message = document.getElementById("camera-message");
  const video = document.getElementById("camera");
  try {
    camera.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch {
    message.textContent = texts.no_camera;
    return;
  }
  video.srcObject = camera.stream;
  video.hidden = false;
  await video.play();
  message.textContent = texts.pointing;
  document.getElementById("camera-start").hidden = true;
  document.getElementById("camera-stop").hidden = false;
  scanFrame(video, document.createElement("canvas"));
}

// --- inspection records ------------------------------------------------------------------

function showQueue() {
  const waiting = queued().length;
  const user = deviceUser();
  const lines = [user ? texts.signed_in.replace("%s", user) : texts.not_signed_in];
  // "All sent" only where something could have been: a device never signed in sent nothing.
  lines.push(waiting ? texts.queued.replace("%s", String(waiting)) : user ? texts.sent : texts.none_waiting);
  document.getElementById("queue-status").textContent = lines.join(" ");
  // The line under a saved record says "will be sent": once nothing waits, it was sent (by
  // whichever send got through: a retry, "online", the button).
  const saved = document.getElementById("record-saved");
  if (!waiting && user && !saved.hidden) saved.textContent = texts.saved_sent;
  document.getElementById("device-form").hidden = Boolean(user);
  document.getElementById("device-signout").hidden = !user;
  document.getElementById("send-now").hidden = !(user && unsent().length);
  app.dataset.queued = String(waiting);
}

// Sending: on load, after a save, on "online", when the page is shown again, on the button,
// and on a timer while records wait (weak data or a captive portal never fires "online").
// One send at a time, so a record is never sent twice at once (the server would still record
// it once: client_id).
const RETRY_FIRST_MS = 5000;
const RETRY_MOST_MS = 300000;
const sending = { running: null, again: false, timer: null, delay: RETRY_FIRST_MS };

async function send() {
  if (sending.running) {
    sending.again = true; // a record saved meanwhile goes right after
    return sending.running;
  }
  sending.running = (async () => {
    do {
      sending.again = false;
      const before = unsent().length;
      await sendQueued();
      if (unsent().length < before) sending.delay = RETRY_FIRST_MS; // it got through
    } while (sending.again);
  })();
  try {
    await sending.running;
  } finally {
    sending.running = null;
  }
  showQueue();
  retryLater();
}

function retryLater() {
  clearTimeout(sending.timer);
  sending.timer = null;
  if (!deviceUser() || !unsent().length) {
    sending.delay = RETRY_FIRST_MS;
    delete app.dataset.retryMs; // no retry waits (a stale value read as a new timer)
    return;
  }
  sending.timer = setTimeout(send, sending.delay);
  app.dataset.retryMs = String(sending.delay);
  sending.delay = Math.min(sending.delay * 2, RETRY_MOST_MS);
}

async function sendNow() {
  sending.delay = RETRY_FIRST_MS; // the inspector asked: start the backoff again
  await send();
  if (unsent().length) {
    const status = document.getElementById("queue-status");
    status.textContent = `${status.textContent} ${texts.not_sent}`;
  }
}

function position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) {
      resolve({});
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ latitude: p.coords.latitude, longitude: p.coords.longitude }),
      () => resolve({}),
      { timeout: 5000, maximumAge: 60000 },
    );
  });
}

async function record(event) {
  event.preventDefault();
  const form = event.target;
  const result = form.querySelector("input[name=result]:checked")?.value;
  const missing = document.getElementById("result-message");
  if (!result) {
    // Beside "Kết quả", on its first choice: where the inspector looks and taps next.
    missing.textContent = texts.pick_result;
    missing.hidden = false;
    form.querySelector("input[name=result]").focus();
    return;
  }
  missing.hidden = true;
  const serial = state.last?.claims?.serial;
  const item = keepRecord({
    result,
    serial: /^[0-9A-Z]{15}$/.test(serial ?? "") ? serial : null,
    // What the screen said (the headline: voided, recalled, genuine...), not the signature's
    // verdict alone: a voided stamp's signature still holds.
    verdict: state.last?.headline ?? null,
    // (not a text longer than any stamp's: the service would refuse the whole record)
    scanned: (state.last?.scanned ?? "").length <= MAX_SCANNED ? state.last?.scanned ?? null : null,
    place: form.place.value.trim() || null,
    notes: form.notes.value.trim() || null,
    sample_taken: form.sample.checked,
    proposal: result === "failed" && form.proposal.value ? form.proposal.value : null,
    ...(form.position.checked ? await position() : {}),
  });
  form.reset();
  document.getElementById("record").hidden = true;
  const saved = document.getElementById("record-saved");
  saved.textContent = deviceUser() ? texts.saved : texts.saved_signed_out;
  saved.hidden = false;
  saved.focus(); // where the form was: the save is seen, and read out
  showQueue();
  await send();
  if (!queued().some((other) => other.client_id === item.client_id)) {
    saved.textContent = texts.saved_sent;
  }
}

/** How the office's list names this device: the page's language, the day as dd/mm/yyyy. */
function deviceName() {
  const now = new Date();
  const day = [now.getDate(), now.getMonth() + 1].map((n) => String(n).padStart(2, "0"));
  return texts.device_name.replace("%s", `${day.join("/")}/${now.getFullYear()}`);
}

async function signInDevice(event) {
  event.preventDefault();
  const form = event.target;
  const message = document.getElementById("device-message");
  message.textContent = "";
  try {
    const refused = await signIn(form.username.value.trim(), form.password.value, deviceName());
    if (refused) {
      message.textContent = refused;
      return;
    }
  } catch {
    message.textContent = texts.offline;
    return;
  }
  form.reset();
  await send();
}

function wireInspections() {
  document.getElementById("record-form").addEventListener("submit", record);
  document.getElementById("device-form").addEventListener("submit", signInDevice);
  document.getElementById("device-signout").addEventListener("click", () => {
    signOut();
    showQueue();
  });
  window.addEventListener("online", send);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") send();
  });
  document.getElementById("send-now").addEventListener("click", sendNow);
  showQueue();
  send();
}

// --- start -------------------------------------------------------------------------------

async function start() {
  document.getElementById("text-form").addEventListener("submit", (event) => {
    event.preventDefault();
    check(document.getElementById("scanned").value);
  });
  document.getElementById("photo").addEventListener("change", fromPhoto);
  document.getElementById("camera-start").addEventListener("click", startCamera);
  document.getElementById("camera-stop").addEventListener("click", stopCamera);
  wireInspections();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/kiem-tra-vien/sw.js", { scope: "/kiem-tra-vien/" });
  }
  const root = app.dataset.root ? JSON.parse(app.dataset.root) : null;
  state.root = root ? await tryLoad(() => parseRootKey(root)) : null;
  if (!state.root) {
    showDataStatus(texts.no_root);
    app.dataset.ready = "yes";
    return;
  }
  const [trustList, listFresh] = await updateTrustList();
  state.trustList = trustList;
  const [snapshot, snapshotFresh] = trustList ? await updateSnapshot() : [null, false];
  state.snapshot = snapshot;
  showDataStatus(listFresh && snapshotFresh ? texts.updated : texts.offline);
  app.dataset.ready = "yes";
  app.dataset.snapshotVersion = snapshot ? String(snapshot.version) : "";
}

start();

// --- the install hint -----------------------------------------------------------------
// Shown only where the browser offers to install the page (Chromium's beforeinstallprompt);
// the browser's own prompt opens on the button, and the hint goes once it is installed.

const install = document.getElementById("install");
let installPrompt = null;
window.addEventListener("beforeinstallprompt", (event) => {
  event.preventDefault();
  installPrompt = event;
  install.hidden = false;
});
document.getElementById("install-button").addEventListener("click", async () => {
  if (!installPrompt) return;
  const offered = installPrompt;
  installPrompt = null;
  install.hidden = true;
  await offered.prompt();
});
window.addEventListener("appinstalled", () => {
  installPrompt = null;
  install.hidden = true;
});

