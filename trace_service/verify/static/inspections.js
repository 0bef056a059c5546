// Inspection records made on the device: kept in a queue on it (localStorage), sent to
// POST /api/v1/inspections with the device's bearer token whenever the network is there, each
// with the id the device made for it (client_id), so a send repeated after a lost answer is
// recorded once. The device signs in once with the inspector's password (HTTP Basic on
// /api/v1/inspector-devices, throttled as every sign-in): it gets its own bearer token, which
// may only check stamps and record inspections, needs no CSRF token for queued requests, and
// the office can revoke.

const QUEUE = "ocop-inspection-queue";
const TOKEN = "ocop-device-token";
const USER = "ocop-device-user";

export const queued = () => JSON.parse(localStorage.getItem(QUEUE) ?? "[]");
const saveQueue = (items) => localStorage.setItem(QUEUE, JSON.stringify(items));
export const deviceUser = () => localStorage.getItem(USER);

/** Records that may still go (not those the service refused for good). */
export const unsent = () => queued().filter((item) => !item.refused);

/** Sign the device in under ``name``; the API's message when refused. */
export async function signIn(username, password, name) {
  const basic = btoa(String.fromCodePoint(...new TextEncoder().encode(`${username}:${password}`)));
  const response = await fetch("/api/v1/inspector-devices", {
    method: "POST",
    headers: { Authorization: `Basic ${basic}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const answer = await response.json();
  if (!response.ok) return answer.message ?? String(response.status);
  localStorage.setItem(TOKEN, answer.token);
  localStorage.setItem(USER, username);
  return null;
}

export function signOut() {
  localStorage.removeItem(TOKEN);
  localStorage.removeItem(USER);
}

/** Keep a record on the device (it gets its id now, once). */
export function keep(record) {
  const item = { client_id: crypto.randomUUID(), checked_at: new Date().toISOString(), ...record };
  saveQueue([...queued(), item]);
  return item;
}

/** Send what waits, oldest first; stops at the first failure of the network. Returns the
 * number still waiting. A record the service refuses for good (4xx but 401 and 429) is set
 * aside with its message, so it never blocks the others. */
export async function sendQueued() {
  const token = localStorage.getItem(TOKEN);
  if (!token) return queued().length;
  for (const item of queued()) {
    if (item.refused) continue;
    let response;
    try {
      response = await fetch("/api/v1/inspections", {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify(item),
      });
    } catch {
      break; // no network: try again later
    }
    if (response.ok) {
      saveQueue(queued().filter((other) => other.client_id !== item.client_id));
    } else if (response.status === 401 || response.status === 429 || response.status >= 500) {
      break;
    } else {
      const refused = (await response.json().catch(() => ({}))).message ?? String(response.status);
      saveQueue(queued().map((other) => (other.client_id === item.client_id ? { ...other, refused } : other)));
    }
  }
  return queued().length;
}
