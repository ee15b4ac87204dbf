// What every device page shares: the terminal key, the API, following a
// transaction, money and numbers as people read them. Plain ES module, no
// build step: the server embeds this folder as it is (PROTOCOL 13, Devices).

const FINAL = new Set(["succeeded", "declined", "expired", "canceled"]);
const RETRY_MS = 2000;

export const isFinal = (status) => FINAL.has(status);

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// The key comes from `#key=tk_…` once, then lives in sessionStorage (this tab
// only, gone when it closes) and leaves the address bar and the history, as
// the POS does: a key on screen or in a bookmark is a key given away. Each
// device keeps its own slot, so one tab can be a gate and then a ticket gate.
function takeKey(slot) {
  const name = `kessai-device-key:${slot}`;
  const hash = window.location.hash;
  if (hash.startsWith("#key=")) {
    const key = decodeURIComponent(hash.slice(5)).trim();
    const clean = window.location.pathname + window.location.search;
    window.history.replaceState(null, "", clean);
    if (key) {
      sessionStorage.setItem(name, key);
      return key;
    }
  }
  return sessionStorage.getItem(name);
}

function forgetKey(slot) {
  sessionStorage.removeItem(`kessai-device-key:${slot}`);
}

/// One terminal's calls, with its key as Bearer.
export class Terminal {
  constructor(key, onSignedOut) {
    this.key = key;
    this.onSignedOut = onSignedOut;
  }

  // {status, body}; status 0 when the server cannot be reached. A 401 also
  // signs the page out (a revoked key).
  async call(method, path, body, signal) {
    const init = { method, headers: { Authorization: `Bearer ${this.key}` }, signal };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response, text;
    try {
      response = await fetch(path, init);
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw error;
      return { status: 0, body: { error: { code: "unreachable", message: "The server cannot be reached." } } };
    }
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { error: { code: "not_json", message: text.slice(0, 200) } };
    }
    if (response.status === 401) this.onSignedOut(parsed?.error?.message ?? "The key was refused.");
    return { status: response.status, body: parsed };
  }

  // The transaction's views as it changes, until it is final (or `signal`
  // aborts). Long-polls with the last version seen, so that a change made
  // between two polls answers the next one at once instead of being missed.
  async follow(id, onView, signal) {
    let version = null;
    while (!signal.aborted) {
      const query = version === null ? "" : `?wait=25&version=${version}`;
      try {
        const { status, body } = await this.call("GET", `/v1/terminal/transactions/${id}${query}`, undefined, signal);
        if (status === 401) return null;
        if (status === 200) {
          version = body.version;
          onView(body);
          if (isFinal(body.status)) return body;
          continue;
        }
      } catch (error) {
        if (signal.aborted) return null;
      }
      // A server restarting or busy: ask again a little later.
      await sleep(RETRY_MS);
    }
    return null;
  }

  async cancel(id) {
    return this.call("POST", `/v1/terminal/transactions/${id}/cancel`);
  }
}

/// Signs the page in: the key from the link or this tab, checked with
/// `GET /v1/terminal`; the header shows whose machine it is. Without a key
/// (or a refused one, or one of another kind) a small form asks for one.
/// Calls `ready(terminal, info)` once signed in.
export async function signIn(slot, kind, ready) {
  const form = document.getElementById("signin");
  const signedOut = (reason) => {
    forgetKey(slot);
    document.body.dataset.signedIn = "false";
    form.hidden = false;
    form.querySelector(".reason").textContent = reason;
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = form.querySelector("input").value.trim();
    if (key) {
      window.location.hash = `key=${encodeURIComponent(key)}`;
      window.location.reload();
    }
  });
  const key = takeKey(slot);
  if (!key) return signedOut("Open this page with the link kessai demo prints, or type the terminal key.");
  const terminal = new Terminal(key, signedOut);
  let answer;
  try {
    answer = await terminal.call("GET", "/v1/terminal");
  } catch {
    return signedOut("The server cannot be reached.");
  }
  if (answer.status !== 200) return signedOut(errorText(answer.body));
  if (answer.body.kind !== kind) {
    return signedOut(`This key belongs to a ${answer.body.kind} terminal; this page is a ${kind} terminal's.`);
  }
  showWhose(answer.body);
  form.hidden = true;
  document.body.dataset.signedIn = "true";
  ready(terminal, answer.body);
}

function showWhose(info) {
  document.querySelector(".merchant-name").textContent = info.merchant.name;
  document.querySelector(".terminal-label").textContent = info.label;
  document.querySelector(".terminal-place").textContent = info.location ?? "";
}

/// An error answer as a sentence.
export function errorText(body) {
  return body?.error?.message ?? "Something went wrong.";
}

/// 1500 JPY → "¥1,500"; 1234 USD → "$12.34".
export function money(amount, currency) {
  const format = new Intl.NumberFormat("en-US", { style: "currency", currency });
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(amount / 10 ** digits);
}

/// "12345678" → "1234 5678", as the wallet asks for it.
export function grouped(number) {
  return `${number.slice(0, 4)} ${number.slice(4)}`;
}

/// Shows a transaction's number and its QR code in `box` (a `.number-box`).
export function showNumber(box, created) {
  const number = box.querySelector(".txn-number");
  number.textContent = grouped(created.number);
  number.dataset.number = created.number;
  const img = box.querySelector(".qr img");
  img.src = `/v1/qr.svg?payload=${encodeURIComponent(created.qr)}`;
  img.alt = `QR code of transaction ${created.number}`;
}

/// Why a transaction ended without being paid, in words.
export function outcomeText(view) {
  switch (view.status) {
    case "declined":
      return {
        insufficient_funds: "Not enough money in the account.",
        restricted: "This customer may not buy it.",
      }[view.decline_code] ?? `Declined (${view.decline_code ?? "no reason given"}).`;
    case "expired":
      return "Nobody paid in time.";
    case "canceled":
      return "Canceled.";
    default:
      return "";
  }
}
