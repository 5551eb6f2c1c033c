// The Game Boy dashboard: /api/status and /api/screen.png, polled about once a second.
function row(table, key, value) {
  table.append(el("tr", {"data-key": key}, el("th", {}, key), el("td", {}, value === null || value === undefined ? "-" : value)));
}

function renderStats(stats) {
  const table = document.getElementById("stats");
  table.replaceChildren();
  for (const [k, v] of Object.entries(stats)) {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v)) row(table, k + "." + k2, typeof v2 === "number" ? Number(v2.toPrecision(5)) : JSON.stringify(v2));
    } else {
      row(table, k, typeof v === "number" ? Number(v.toPrecision(6)) : JSON.stringify(v));
    }
  }
}

function renderDecision(d) {
  const table = document.getElementById("decision");
  table.replaceChildren();
  if (!d) { row(table, "decision", "none yet"); return; }
  row(table, "action", d.action);
  row(table, "buttons", d.buttons ? d.buttons.join(" ") : "-");
  row(table, "reason", d.reason || "-");
  row(table, "error", d.error || "-");
  row(table, "seconds", d.seconds);
  table.append(el("tr", {}, el("th", {}, "prompt"), el("td", {}, el("pre", {}, d.prompt || ""))));
  table.append(el("tr", {}, el("th", {}, "answer"), el("td", {}, el("pre", {}, d.answer === null ? "(none)" : d.answer))));
}

function renderCurves(curve) {
  const box = document.getElementById("charts");
  box.replaceChildren();
  const xs = curve.actions;
  const total = chart("total reward", {total: xs.map((x, i) => [x, curve.total[i]])});
  const terms = {};
  for (const [k, ys] of Object.entries(curve.terms)) terms[k] = xs.map((x, i) => [x, ys[i]]);
  const parts = chart("reward by term", terms);
  for (const c of [total, parts]) if (c) box.append(c);
}

async function refresh() {
  try {
    const status = await api("/api/status");
    renderStats(status.stats);
    renderDecision(status.decision);
    renderCurves(status.curve);
    document.getElementById("screen").src = "/api/screen.png?t=" + Date.now();
    document.getElementById("updated").textContent = "actions: " + (status.stats.actions ?? 0);
    showError("");
  } catch (e) {
    showError("The run is not answering: " + e.message);
  }
}
refresh();
setInterval(refresh, 1000);
