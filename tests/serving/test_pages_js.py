"""The pages' shared script (`gamelm/web/static/common.js`) in Node with a stub browser: the
token is taken from the address's fragment (never sent to the server), removed from the
address, kept in the tab's storage and sent in the Authorization header, never in a URL; a
401 shows a form that asks for it. The same checks run in a real browser in test_browser.py
when Chromium is installed."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from gamelm.web import STATIC

NODE = shutil.which("node")

HARNESS = r"""
const vm = require("vm");
const [source, href, stored, status] = JSON.parse(process.argv[1]);
const url = new URL(href);
const storage = new Map(stored ? [["gamelm_token", stored]] : []);
const calls = [], replaced = [], forms = [];
function node(tag) {
  return {tag, children: [], attrs: {}, listeners: {}, style: {},
          setAttribute(k, v) { this.attrs[k] = v; }, append(...c) { this.children.push(...c); },
          prepend(c) { forms.push(c); }, addEventListener(k, f) { this.listeners[k] = f; },
          focus() {}};
}
const context = {
  URL, URLSearchParams, JSON, Object, Promise, console,
  location: {href, pathname: url.pathname, search: url.search, hash: url.hash, reload() {}},
  sessionStorage: {getItem: k => storage.get(k) ?? null, setItem: (k, v) => storage.set(k, v)},
  history: {replaceState: (s, t, u) => replaced.push(u)},
  Node: function () {},
  document: {createElement: node, createTextNode: t => t, getElementById: () => null,
             querySelector: () => node("main"), body: node("body")},
  fetch: async (path, options) => {
    calls.push({path, headers: options.headers});
    const error = {error: {message: "A valid bearer token is required."}};
    return {ok: status < 400, status, statusText: "x",
            json: async () => status < 400 ? {ok: 1} : error};
  },
};
vm.createContext(context);
vm.runInContext(source + "\n;globalThis.api = api;", context);
context.api("/v1/agents").then(() => null, e => e.message).then(error => {
  console.log(JSON.stringify({calls, replaced, stored: storage.get("gamelm_token") ?? null,
                              forms: forms.map(f => f.attrs.id), error}));
});
"""


def run_page(href: str, stored: str | None = None, status: int = 200) -> dict:
    source = (STATIC / "common.js").read_text()
    args = json.dumps([source, href, stored, status])
    out = subprocess.run(
        [NODE, "-e", HARNESS, args], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(out.stdout)


pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node.js to run the pages' script")


def test_the_token_comes_from_the_fragment_and_goes_in_the_header():
    got = run_page("http://127.0.0.1:8000/play#token=s3cret")
    assert got["stored"] == "s3cret"
    assert got["replaced"] == ["/play"]  # the token leaves the address bar and history
    assert got["calls"] == [
        {
            "path": "/v1/agents",
            "headers": {"Content-Type": "application/json", "Authorization": "Bearer s3cret"},
        }
    ]
    assert got["error"] is None and got["forms"] == []


def test_the_stored_token_is_used_and_other_fragments_are_kept():
    got = run_page("http://localhost/dashboard?run=a#x=1&token=t2", stored="old")
    assert got["stored"] == "t2" and got["replaced"] == ["/dashboard?run=a#x=1"]
    got = run_page("http://localhost/strategy", stored="kept")
    assert got["replaced"] == [] and got["calls"][0]["headers"]["Authorization"] == "Bearer kept"


def test_a_query_token_is_not_used_and_a_401_asks_for_the_token():
    got = run_page("http://localhost/play?token=leaky", status=401)
    assert got["stored"] is None and "Authorization" not in got["calls"][0]["headers"]
    assert got["calls"][0]["path"] == "/v1/agents"
    assert got["error"] == "A valid bearer token is required."
    assert got["forms"] == ["token-form"]
