// The entrance and exit gate (C6), `gate.html?mode=entry|exit`. Entry: the
// phone that syncs the number receives its admission and the gate opens.
// Exit: the phone syncs with its admission, the fee appears as the
// transaction's amount, and the gate opens only once it is paid.
import { signIn, money, showNumber, outcomeText, errorText } from "./terminal.js";

const MODES = {
  entry: {
    title: "Entrance gate",
    path: "/v1/terminal/gate/entries",
    button: "Enter",
    idle: "Press Enter, then pay in store with your phone to get your admission.",
    waiting: "Type the number in your wallet's Pay in store.",
    open: "Welcome! Keep your phone: it holds your admission.",
  },
  exit: {
    title: "Exit gate",
    path: "/v1/terminal/gate/exits",
    button: "Pay and exit",
    idle: "Press Pay and exit, then pay the parking fee with your phone.",
    waiting: "Type the number in your wallet's Pay in store: it sends your admission.",
    open: "Paid. Thank you, and drive safely!",
  },
};

const mode = new URLSearchParams(window.location.search).get("mode") === "exit" ? "exit" : "entry";
const words = MODES[mode];
const $ = (id) => document.getElementById(id);
let current = null; // { id, abort }

function show(state, message) {
  const gate = $("gate");
  gate.dataset.state = state;
  gate.dataset.open = String(state === "open");
  $("sign").textContent = state === "open" ? "OPEN" : "CLOSED";
  $("message").textContent = message;
  $("start").hidden = state !== "idle";
  const waiting = state === "waiting" || state === "synchronized";
  $("number-box").hidden = !waiting;
  $("cancel").hidden = !waiting;
  $("next").hidden = !["open", "closed"].includes(state);
}

function showFee(view) {
  const fee = $("fee");
  fee.hidden = view.amount == null;
  if (view.amount != null) {
    fee.dataset.amount = String(view.amount);
    fee.querySelector("strong").textContent = money(view.amount, view.currency);
  }
}

async function start(terminal) {
  $("start").disabled = true;
  const { status, body } = await terminal.call("POST", words.path, {});
  $("start").disabled = false;
  if (status !== 201) return show("idle", errorText(body));
  showNumber($("number-box"), body);
  show("waiting", words.waiting);
  current = { id: body.id, abort: new AbortController() };
  const final = await terminal.follow(body.id, onView, current.abort.signal);
  current = null;
  if (!final) return;
  showFee(final);
  if (final.status === "succeeded") show("open", words.open);
  else show("closed", `The gate stays closed. ${outcomeText(final)}`);
}

function onView(view) {
  showFee(view);
  if (view.status === "synchronized") {
    const who = view.payer?.name ?? "The payer";
    const message = mode === "exit" ? `${who}: please confirm the fee on your phone.` : `${who} is entering…`;
    show("synchronized", message);
  }
}

function reset() {
  $("fee").hidden = true;
  delete $("fee").dataset.amount;
  show("idle", words.idle);
}

document.title = `${words.title} · Kessai`;
$("title").textContent = words.title;
$("heading").textContent = mode === "exit" ? "Exit" : "Entrance";
$("start").textContent = words.button;
show("idle", words.idle);
signIn(`gate-${mode}`, "gate", (terminal) => {
  $("start").addEventListener("click", () => start(terminal));
  $("cancel").addEventListener("click", () => current && terminal.cancel(current.id));
  $("next").addEventListener("click", reset);
});
