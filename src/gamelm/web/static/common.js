// Shared by the gamelm pages. A server with a token wants it in the Authorization header of
// every API call (never in the address: that ends up in logs and history). The token is given
// once after '#' in the page's address (/play#token=...; that part never leaves the browser) or
// typed into the form shown when the server asks for it, and kept in this tab's storage.
const TOKEN_KEY = "gamelm_token";
(function takeToken() {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (!hash.get("token")) return;
  sessionStorage.setItem(TOKEN_KEY, hash.get("token"));
  hash.delete("token");
  const rest = hash.toString();
  history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
})();
const TOKEN = sessionStorage.getItem(TOKEN_KEY);

async function api(path, options = {}) {
  const headers = Object.assign({"Content-Type": "application/json"}, options.headers || {});
  if (TOKEN) headers["Authorization"] = "Bearer " + TOKEN;
  const response = await fetch(path, Object.assign({}, options, {headers}));
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) askToken();
  if (!response.ok) throw new Error((body.error && body.error.message) || response.statusText);
  return body;
}

function askToken() {
  if (document.getElementById("token-form")) return;
  const input = el("input", {type: "password", id: "token", placeholder: "API token", autocomplete: "off"});
  const form = el("form", {id: "token-form", class: "actions"}, el("label", {}, "This server needs its API token: ", input),
                  el("button", {type: "submit"}, "Use it"));
  form.addEventListener("submit", event => {
    event.preventDefault();
    if (!input.value) return;
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    location.reload();
  });
  (document.querySelector("main") || document.body).prepend(form);
  input.focus();
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
  return el("nav", {}, el("a", {href: "/"}, "gamelm"), el("a", {href: "/play"}, "Play"),
            el("a", {href: "/dashboard"}, "Training"), el("a", {href: "/strategy"}, "Strategy"));
}

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message || "";
  box.style.display = message ? "block" : "none";
}
