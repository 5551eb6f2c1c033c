// Shared by the gamelm pages: the token (from ?token=... or the page's storage) on every call.
const params = new URLSearchParams(location.search);
if (params.get("token")) sessionStorage.setItem("gamelm_token", params.get("token"));
const TOKEN = sessionStorage.getItem("gamelm_token");

async function api(path, options = {}) {
  const headers = Object.assign({"Content-Type": "application/json"}, options.headers || {});
  if (TOKEN) headers["Authorization"] = "Bearer " + TOKEN;
  const response = await fetch(path, Object.assign({}, options, {headers}));
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((body.error && body.error.message) || response.statusText);
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

const SUITS = {s: "\u2660", h: "\u2665", d: "\u2666", c: "\u2663"};
function card(name) {
  if (!name) return el("div", {class: "card back"}, "");
  const suit = name[1];
  return el("div", {class: "card " + (suit === "h" || suit === "d" ? "red" : "black"), "data-card": name},
            el("span", {class: "rank"}, name[0] === "T" ? "10" : name[0]), el("span", {class: "suit"}, SUITS[suit]));
}

function navLinks() {
  const q = TOKEN ? "?token=" + encodeURIComponent(TOKEN) : "";
  return el("nav", {}, el("a", {href: "/" + q}, "gamelm"), el("a", {href: "/play" + q}, "Play"),
            el("a", {href: "/dashboard" + q}, "Training"), el("a", {href: "/strategy" + q}, "Strategy"));
}

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message || "";
  box.style.display = message ? "block" : "none";
}
