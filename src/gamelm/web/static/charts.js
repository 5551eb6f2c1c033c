// Small SVG line charts, shared by the training and Game Boy dashboards.
const COLOURS = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037"];

function svgEl(tag, attrs) {
  const n = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  return n;
}

function chart(title, series, band) {
  // series: {name: [[step, value], ...]}; band: [[step, lo, hi], ...] or null
  const W = 320, H = 180, L = 46, B = 22;
  const all = Object.values(series).flat().concat(band ? band.flatMap(b => [[b[0], b[1]], [b[0], b[2]]]) : []);
  const svg = svgEl("svg", {width: W, height: H, class: "plot"});
  if (!all.length) return null;
  const xs = all.map(p => p[0]), ys = all.map(p => p[1]);
  let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  if (x1 === x0) x1 = x0 + 1; if (y1 === y0) { y1 += 1; y0 -= 1; }
  const X = x => L + (x - x0) / (x1 - x0) * (W - L - 8), Y = y => 8 + (1 - (y - y0) / (y1 - y0)) * (H - B - 8);
  svg.append(svgEl("line", {x1: L, y1: H - B, x2: W - 8, y2: H - B, stroke: "#999"}));
  svg.append(svgEl("line", {x1: L, y1: 8, x2: L, y2: H - B, stroke: "#999"}));
  for (const [v, y] of [[y1, 12], [y0, H - B]]) {
    const t = svgEl("text", {x: 2, y: y, "font-size": 10}); t.textContent = Number(v.toPrecision(4)); svg.append(t);
  }
  const t = svgEl("text", {x: W - 80, y: H - 6, "font-size": 10}); t.textContent = "step " + x1; svg.append(t);
  if (band && band.length) {
    const pts = band.map(b => X(b[0]) + "," + Y(b[2])).concat(band.slice().reverse().map(b => X(b[0]) + "," + Y(b[1])));
    svg.append(svgEl("polygon", {points: pts.join(" "), fill: "rgba(21,101,192,.18)"}));
  }
  Object.entries(series).forEach(([name, pts], i) => {
    svg.append(svgEl("polyline", {points: pts.map(p => X(p[0]) + "," + Y(p[1])).join(" "), fill: "none",
                                  stroke: COLOURS[i % COLOURS.length], "stroke-width": 1.6, "data-key": name}));
  });
  const legend = el("div", {}, Object.keys(series).map((n, i) => el("small", {style: "color:" + COLOURS[i % COLOURS.length] + ";margin-right:8px"}, n)));
  return el("div", {class: "chart"}, el("h3", {}, title), svg, legend);
}
