// The 13x13 preflop grid of an agent at a position (/v1/strategy).
const POSITIONS = {2: ["SB/BTN", "BB"], 3: ["BTN", "SB", "BB"], 4: ["UTG", "BTN", "SB", "BB"],
  5: ["UTG", "CO", "BTN", "SB", "BB"], 6: ["UTG", "HJ", "CO", "BTN", "SB", "BB"],
  9: ["UTG", "UTG+1", "UTG+2", "LJ", "HJ", "CO", "BTN", "SB", "BB"]};

function fillPositions() {
  const n = document.getElementById("seats").value;
  const select = document.getElementById("position");
  select.replaceChildren(...POSITIONS[n].map(p => el("option", {value: p}, p)));
  select.value = POSITIONS[n].includes("BTN") ? "BTN" : "SB/BTN";
}

async function show() {
  try {
    const q = new URLSearchParams({agent: document.getElementById("agent").value,
      seats: document.getElementById("seats").value, position: document.getElementById("position").value});
    const g = await api("/v1/strategy?" + q);
    const cells = g.classes.map((name, k) => {
      const r = g.raise[k] * 100, c = g.call[k] * 100;
      const bg = `linear-gradient(to right, #d9534f 0 ${r}%, #5cb85c ${r}% ${r + c}%, #6f8fbf ${r + c}% 100%)`;
      return el("div", {class: "cell", style: "background:" + bg, title: `${name}: raise ${r.toFixed(0)}%, call ${c.toFixed(0)}%, fold ${(g.fold[k] * 100).toFixed(0)}%`, "data-class": name}, name);
    });
    document.getElementById("grid").replaceChildren(...cells);
    document.getElementById("shares").textContent = `${g.agent} at ${g.position}: plays ${(g.play_share * 100).toFixed(1)}% of hands, raises ${(g.raise_share * 100).toFixed(1)}%`;
    showError("");
  } catch (e) { showError(e.message); }
}

document.getElementById("seats").addEventListener("change", fillPositions);
document.getElementById("show").addEventListener("click", show);
fillPositions();
api("/v1/agents").then(a => {
  document.getElementById("agent").replaceChildren(...a.agents.map(x => el("option", {value: x.name}, x.name)));
  show();
}).catch(e => showError(e.message));
