// The vending machine (C5): the phone picks one article from the machine's
// menu and pays; the machine dispenses what the completion notice names
// (`dispense`), and nothing on any other outcome.
import { signIn, money, showNumber, outcomeText, errorText } from "./terminal.js";

// The machine's shelves: shelf prices, tax included, as on the buttons of a
// Japanese vending machine.
const ARTICLES = [
  { code: "green-tea", name: "Green tea", unit_price: 150, color: "#3f8f3a" },
  { code: "coffee", name: "Canned coffee", unit_price: 130, color: "#6b4226" },
  { code: "water", name: "Mineral water", unit_price: 110, color: "#5aa9e6" },
  { code: "cola", name: "Cola", unit_price: 160, color: "#b0141b" },
  { code: "orange", name: "Orange juice", unit_price: 180, color: "#f08a12" },
  { code: "sports", name: "Sports drink", unit_price: 140, color: "#2d5bd1" },
];
const CURRENCY = "JPY";

const $ = (id) => document.getElementById(id);
let current = null; // { id, abort }

function drawShelves() {
  for (const article of ARTICLES) {
    const cell = document.createElement("div");
    cell.className = "article";
    cell.dataset.code = article.code;
    cell.style.setProperty("--can", article.color);
    cell.innerHTML = `<div class="can"></div><div class="name"></div><span class="price"></span>`;
    cell.querySelector(".name").textContent = article.name;
    cell.querySelector(".price").textContent = money(article.unit_price, CURRENCY);
    $("articles").append(cell);
  }
}

function show(state, text) {
  $("machine").dataset.state = state;
  $("display").textContent = text;
  $("buy").hidden = state !== "idle";
  $("number-box").hidden = !["waiting", "synchronized"].includes(state);
  $("cancel").hidden = !["waiting", "synchronized"].includes(state);
  $("again").hidden = !["dispensed", "nothing"].includes(state);
}

async function buy(terminal) {
  $("buy").disabled = true;
  const items = ARTICLES.map(({ code, name, unit_price }) => ({ code, name, unit_price }));
  const { status, body } = await terminal
    .call("POST", "/v1/terminal/transactions", { menu: { currency: CURRENCY, items } })
    .finally(() => ($("buy").disabled = false));
  if (status !== 201) return show("idle", errorText(body));
  showNumber($("number-box"), body);
  show("waiting", "Pay in store on your phone, then pick a drink");
  current = { id: body.id, abort: new AbortController() };
  const final = await terminal.follow(body.id, onView, current.abort.signal);
  if (final) finish(final);
}

function onView(view) {
  if (view.status === "synchronized") {
    const who = view.payer?.name ? `${view.payer.name}: ` : "";
    const what = view.order ? `${view.order.items[0].name}, ${money(view.amount, view.currency)}` : "choosing…";
    show("synchronized", `${who}${what}`);
  }
}

function finish(view) {
  current = null;
  if (view.status === "succeeded" && view.dispense) return dispense(view.dispense);
  show("nothing", `Nothing dispensed. ${outcomeText(view)}`);
}

// Drops the can the completion notice names into the tray.
function dispense(line) {
  const article = ARTICLES.find((a) => a.code === line.code);
  document.querySelector(`.article[data-code="${line.code}"]`)?.classList.add("chosen");
  const tray = $("dispensed");
  tray.dataset.code = line.code;
  tray.innerHTML = `<div class="can"></div><div class="what"></div>`;
  tray.querySelector(".can").style.setProperty("--can", article?.color ?? "#888");
  tray.querySelector(".what").textContent = `${line.name} · ${money(line.unit_price, CURRENCY)}`;
  show("dispensed", `Thank you! Take your ${line.name}.`);
}

function reset() {
  document.querySelectorAll(".article.chosen").forEach((cell) => cell.classList.remove("chosen"));
  $("dispensed").replaceChildren();
  delete $("dispensed").dataset.code;
  show("idle", "Choose on your phone");
}

drawShelves();
signIn("vending", "vending", (terminal) => {
  $("buy").addEventListener("click", () => buy(terminal));
  $("cancel").addEventListener("click", () => current && terminal.cancel(current.id));
  $("again").addEventListener("click", reset);
});
