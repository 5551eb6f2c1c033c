// The training dashboard: the run registry through /v1/runs, polled every few seconds.
let current = null;
const PANELS = [
  ["hands/s", k => k === "charts/hands_per_s"],
  ["evaluation bb/100 (95% CI)", k => k === "eval/bb_per_100"],
  ["bb/100 by opponent", k => /^eval\/.+\/bb_per_100$/.test(k)],
  ["losses", k => k.startsWith("losses/") && k !== "losses/entropy"],
  ["entropy", k => k === "losses/entropy"],
  ["other", null],
];
function renderRun(run) {
  const used = new Set();
  const charts = [];
  for (const [title, test] of PANELS) {
    const series = {};
    for (const [k, pts] of Object.entries(run.metrics)) {
      if (used.has(k) || k.endsWith("_ci95") || k.endsWith("/ci95")) continue;
      if (test === null || test(k)) { series[k] = pts; used.add(k); }
    }
    let band = null;
    if (title.startsWith("evaluation") && run.metrics["eval/bb_per_100_ci95"]) {
      const half = Object.fromEntries(run.metrics["eval/bb_per_100_ci95"]);
      band = (series["eval/bb_per_100"] || []).map(([s, v]) => [s, v - (half[s] || 0), v + (half[s] || 0)]);
    }
    const c = Object.keys(series).length ? chart(title, series, band) : null;
    if (c) charts.push(c);
  }
  document.getElementById("charts").replaceChildren(...charts);
  document.getElementById("status").textContent = run.algorithm + " - " + run.status;
  document.getElementById("updated").textContent = "(updated " + new Date().toLocaleTimeString() + ")";
  // latest evaluation: the last value of every eval/<opponent>/bb_per_100 with its CI
  const rows = [el("tr", {}, el("th", {}, "opponent"), el("th", {}, "bb/100"), el("th", {}, "95% CI"), el("th", {}, "step"))];
  for (const [k, pts] of Object.entries(run.metrics)) {
    const m = k.match(/^eval\/(.+)\/bb_per_100$/);
    if (!m || !pts.length) continue;
    const [step, v] = pts[pts.length - 1];
    const ci = run.metrics["eval/" + m[1] + "/ci95"];
    const half = ci && ci.length ? ci[ci.length - 1][1] : null;
    rows.push(el("tr", {}, el("td", {}, m[1]), el("td", {}, v.toFixed(1)),
      el("td", {}, half === null ? "" : "[" + (v - half).toFixed(1) + ", " + (v + half).toFixed(1) + "]"), el("td", {}, step)));
  }
  document.getElementById("evaluation").replaceChildren(...(rows.length > 1 ? rows : [el("tr", {}, el("td", {}, "no evaluation yet"))]));
  document.getElementById("checkpoints").replaceChildren(...run.checkpoints.map(c => el("li", {}, "step " + c.step + ": " + c.path)));
}

async function refresh() {
  try {
    const list = await api("/v1/runs");
    const select = document.getElementById("run");
    const names = list.runs.map(r => r.name);
    if (select.options.length !== names.length) {
      select.replaceChildren(...names.map(n => el("option", {value: n}, n)));
      if (current && names.includes(current)) select.value = current;
    }
    const header = el("tr", {}, ["run", "algorithm", "status", "updated"].map(h => el("th", {}, h)));
    document.getElementById("runs").replaceChildren(header, ...list.runs.map(r => el("tr", {},
      el("td", {}, r.name), el("td", {}, r.algorithm), el("td", {}, r.status), el("td", {}, new Date(r.updated * 1000).toLocaleString()))));
    current = select.value || null;
    if (current) renderRun(await api("/v1/runs/" + encodeURIComponent(current)));
    else document.getElementById("charts").replaceChildren(el("p", {}, "No runs in the registry yet: start one with gamelm train."));
    showError("");
  } catch (e) { showError(e.message); }
}
document.getElementById("run").addEventListener("change", e => { current = e.target.value; refresh(); });
refresh();
setInterval(refresh, 3000);
