// The ticket machine and its entrance (C9), `ticket.html?mode=sell|check`.
// Sell: a sale that carries the ticket's event and validity; once paid, the
// phone's receipt holds the signed ticket. Check: the entrance sends a
// ticket to `POST /v1/terminal/tickets/verify`: admitted once, then refused.
import { signIn, money, showNumber, outcomeText, errorText } from "./terminal.js";

const EVENT = "Kessai Jazz Night";
const PRICE = 3000;
const CURRENCY = "JPY";
const HOUR_S = 3600;

const mode = new URLSearchParams(window.location.search).get("mode") === "check" ? "check" : "sell";
const $ = (id) => document.getElementById(id);
let current = null; // { id, abort }

// Valid all of today, local time, until 4 a.m.: a ticket bought in the
// afternoon still opens the doors after midnight, and a browser clock a
// little off from the server's does not matter.
function validity() {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  const from = Math.floor(midnight.getTime() / 1000);
  return { valid_from: from, valid_until: from + 28 * HOUR_S };
}

function showSale(state, message) {
  $("sell").dataset.state = state;
  $("sell-message").textContent = message;
  $("buy").hidden = state !== "idle";
  const waiting = state === "waiting" || state === "synchronized";
  $("number-box").hidden = !waiting;
  $("cancel").hidden = !waiting;
  $("sold").hidden = state !== "sold";
  $("again").hidden = !["sold", "unsold"].includes(state);
}

async function buy(terminal) {
  $("buy").disabled = true;
  const ticket = { event: EVENT, ...validity() };
  const sale = { amount: PRICE, currency: CURRENCY, ticket };
  const { status, body } = await terminal.call("POST", "/v1/terminal/transactions", sale);
  $("buy").disabled = false;
  if (status !== 201) return showSale("idle", errorText(body));
  showNumber($("number-box"), body);
  showSale("waiting", "Pay in store on your phone.");
  current = { id: body.id, abort: new AbortController() };
  const final = await terminal.follow(body.id, onView, current.abort.signal);
  current = null;
  if (!final) return;
  if (final.status === "succeeded") showSale("sold", `Paid ${money(final.amount, final.currency)}. Enjoy the show!`);
  else showSale("unsold", `No ticket sold. ${outcomeText(final)}`);
}

function onView(view) {
  if (view.status === "synchronized") showSale("synchronized", `${view.payer?.name ?? "The payer"}: confirm on your phone.`);
}

const REFUSALS = {
  ticket_used: "Already used",
  invalid_ticket: "Not valid here or now",
  body_invalid: "Not a ticket",
};

async function check(terminal) {
  const ticket = $("ticket").value.trim();
  if (!ticket) return;
  $("check-button").disabled = true;
  const { status, body } = await terminal.call("POST", "/v1/terminal/tickets/verify", { ticket });
  $("check-button").disabled = false;
  const verdict = $("verdict");
  if (status === 200 && body.admitted) {
    verdict.dataset.admitted = "true";
    $("verdict-big").textContent = "Admitted";
    $("verdict-detail").textContent = body.event;
  } else {
    verdict.dataset.admitted = "false";
    $("verdict-big").textContent = "Refused";
    $("verdict-detail").textContent = REFUSALS[body?.error?.code] ?? errorText(body);
  }
  $("ticket").value = "";
}

async function paste() {
  try {
    $("ticket").value = (await navigator.clipboard.readText()).trim();
  } catch {
    $("ticket").focus(); // No clipboard permission: the keyboard's paste still works.
  }
}

function setUp() {
  $("title").textContent = mode === "check" ? "Ticket entrance" : "Ticket machine";
  document.title = `${$("title").textContent} · Kessai`;
  $("sell").hidden = mode !== "sell";
  $("check").hidden = mode !== "check";
  document.querySelector(".event-name").textContent = EVENT;
  $("when").textContent = "Doors 18:30 · Valid all day today";
  $("price").textContent = money(PRICE, CURRENCY);
  showSale("idle", "One adult ticket, standing.");
}

setUp();
signIn(`ticket-${mode}`, "ticket", (terminal) => {
  $("buy").addEventListener("click", () => buy(terminal));
  $("cancel").addEventListener("click", () => current && terminal.cancel(current.id));
  $("again").addEventListener("click", () => showSale("idle", "One adult ticket, standing."));
  $("check-form").addEventListener("submit", (event) => {
    event.preventDefault();
    check(terminal);
  });
  $("paste").addEventListener("click", paste);
});
