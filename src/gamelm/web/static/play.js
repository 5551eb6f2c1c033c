// The play page: one table against a served agent through /v1/tables.
let table = null;

function seatBox(s, view) {
  const cls = ["seat"];
  if (s.folded) cls.push("folded");
  if (view.to_act === s.seat) cls.push("acting");
  const cards = s.cards.length ? s.cards.map(card) : (s.folded ? [] : [card(null), card(null)]);
  return el("div", {class: cls.join(" "), id: "seat-" + s.seat},
    el("div", {}, s.name + " ", el("small", {}, s.position), s.button ? el("span", {class: "dealer"}, "D") : ""),
    el("div", {}, cards),
    el("div", {class: "chips"}, "stack " + s.stack + (s.bet ? " | bet " + s.bet : "")),
    s.won !== null && s.won !== undefined ? el("div", {class: "chips"}, (s.won >= 0 ? "won " : "lost ") + Math.abs(s.won)) : "");
}

function render(view) {
  table = view;
  showError("");
  const me = view.seats.find(s => s.seat === view.hero.seat);
  document.getElementById("opponents").replaceChildren(...view.seats.filter(s => s !== me).map(s => seatBox(s, view)));
  document.getElementById("me").replaceChildren(seatBox(me, view));
  document.getElementById("board").replaceChildren(...view.board.map(card));
  document.getElementById("pot").textContent = "Pot " + view.pot + " - " + view.street + " - hand #" + view.hand;
  document.getElementById("session").textContent = "Session: " + (view.session_total >= 0 ? "+" : "") + view.session_total +
    " chips over " + view.hands_finished + " hands";
  document.getElementById("log").replaceChildren(...view.log.map(line => el("li", {}, line)));
  const buttons = [];
  if (view.hand_over) {
    buttons.push(el("span", {id: "result"}, view.result >= 0 ? "You won " + view.result : "You lost " + (-view.result)));
    buttons.push(el("button", {id: "next-hand", onclick: nextHand}, "Next hand"));
  } else {
    for (const a of view.legal_actions) {
      const label = a.action === "fold" ? "Fold" : a.action === "check" ? "Check" : a.action === "call" ? "Call " + a.chips
        : (a.action === "all-in" ? "All-in " : (a.action === "bet" ? "Bet " : "Raise to ")) + a.to;
      buttons.push(el("button", {class: a.action, "data-action": a.action, "data-to": a.to,
        onclick: () => act({action: a.action, to: ["bet", "raise", "all-in"].includes(a.action) ? a.to : null})}, label));
    }
    if (view.min_raise_to !== undefined && view.legal_actions.some(a => ["bet", "raise"].includes(a.action))) {
      const amount = el("input", {type: "number", id: "amount", min: view.min_raise_to, max: view.max_raise_to, value: view.min_raise_to});
      const word = view.legal_actions.some(a => a.action === "bet") ? "bet" : "raise";
      buttons.push(amount, el("button", {class: word, id: "custom", onclick: () => act({action: word, to: Number(amount.value)})}, word + " to"));
    }
  }
  document.getElementById("buttons").replaceChildren(...buttons);
  loadHistory();
}

async function loadHistory() {
  if (!table || !table.hands_finished) return;
  const h = await api("/v1/tables/" + table.table_id + "/hands");
  document.getElementById("history").textContent = h.hands.slice().reverse().join("\n");
}

async function newTable() {
  try {
    render(await api("/v1/tables", {method: "POST", body: JSON.stringify({
      agent: document.getElementById("agent").value, seats: Number(document.getElementById("seats").value),
      stack: Number(document.getElementById("stack").value)})}));
  } catch (e) { showError(e.message); }
}
async function act(record) {
  try { render(await api("/v1/tables/" + table.table_id + "/act", {method: "POST", body: JSON.stringify(record)})); }
  catch (e) { showError(e.message); }
}
async function nextHand() {
  try { render(await api("/v1/tables/" + table.table_id + "/next", {method: "POST"})); }
  catch (e) { showError(e.message); }
}

document.getElementById("new-table").addEventListener("click", newTable);
api("/v1/agents").then(a => {
  document.getElementById("agent").replaceChildren(...a.agents.map(x => el("option", {value: x.name}, x.name)));
  newTable();
}).catch(e => showError(e.message));
