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

function fmt(v, digits = 4) {
  return typeof v === "number" ? Number(v.toPrecision(digits)).toLocaleString() : v;
}

function renderSummary(s) {
  const table = document.getElementById("summary");
  table.replaceChildren();
  const g = s.game || {};
  const where = g.map_name !== undefined ? `${g.map_name} (${g.x}, ${g.y})` : `${s.tiles_seen} screens seen`;
  const recent = Object.entries(s.recent_reward_terms || {}).filter(([, v]) => v).map(([k, v]) => `${k} ${v > 0 ? "+" : ""}${fmt(v, 3)}`).join(", ");
  const d = s.dqn;
  const stuck = s.anti_stuck || {};
  const rows = [
    ["actions", `${fmt(s.actions)} (${fmt(s.actions_per_s, 3)}/s)`],
    ["reward", `${fmt(s.total_reward)}; recent: ${recent || "none"}`],
    ["where", where],
  ];
  if (g.party_levels !== undefined) {
    rows.push(["party levels", g.party_levels.length ? g.party_levels.join(", ") : "no Pokemon yet"]);
    rows.push(["badges, money", `${g.badges}, ${fmt(g.money)}`]);
  }
  rows.push(["LLM", `${s.llm_calls} calls, ${s.llm_plans} plans, ${s.llm_fallbacks} fallbacks`]);
  rows.push(["DQN", d ? `epsilon ${fmt(d.epsilon, 3)}, replay ${d.replay}, ${d.updates} updates, loss ${d.loss === null ? "-" : fmt(d.loss, 3)}` : "off"]);
  rows.push(["stuck", stuck.stuck ? `${stuck.stuck} (bursts ${stuck.bursts}, reloads ${stuck.reloads})` : `no (bursts ${stuck.bursts}, reloads ${stuck.reloads})`]);
  for (const [k, v] of rows) row(table, k, v);
}

function renderDecision(d) {
  const table = document.getElementById("decision");
  table.replaceChildren();
  if (!d) { row(table, "decision", "none yet"); return; }
  row(table, "asked at action", d.action);
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
    if (status.stats.actions !== undefined) renderSummary(status.stats);
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
