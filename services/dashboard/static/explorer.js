// The devnet explorer: one view per kind, chosen by the URL hash
// (#address/X, #transaction/X, #bundle/X, #milestone/N, #mam/ROOT?mode=&sideKey=).
"use strict";

const result = document.getElementById("result");

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function table(headers, rows) {
  const head = el("tr", {}, ...headers.map((h) => el("th", {}, h)));
  return el("table", {}, head, ...rows.map((cells) => el("tr", {}, ...cells.map((c) => el("td", {}, c)))));
}

const link = (kind, value, extra) => explorerLink.make(kind, value, extra);

async function api(path) {
  const reply = await fetch(`/api/explorer/${path}`);
  const body = await reply.json().catch(() => ({}));
  if (!reply.ok) throw new Error(typeof body.detail === "string" ? body.detail : `HTTP ${reply.status}`);
  return body;
}

const views = {
  async address(value) {
    const a = await api(`address/${value}`);
    return el("div", { class: "view address", "data-address": a.address },
      el("h2", {}, "Address"),
      el("p", {}, el("code", {}, a.address)),
      table(["confirmed balance", "pending balance", "spent from", "transactions"], [[
        el("span", { class: "confirmed-balance" }, `${a.confirmedBalance}i`),
        el("span", { class: "pending-balance" }, `${a.pendingBalance}i`),
        a.spent ? "yes" : "no",
        String(a.transactionCount),
      ]]),
      el("h3", {}, "Transactions"),
      table(["transaction", "value", "bundle", "confirmed"], a.transactions.map((t) => [
        link("transaction", t.hash), `${t.value}i`, link("bundle", t.bundle), t.confirmed ? "yes" : "no",
      ])));
  },
  async transaction(value) {
    const t = await api(`transaction/${value}`);
    const status = t.confirmed
      ? el("span", {}, "confirmed by milestone ", t.milestone ? link("milestone", String(t.milestone)) : "?")
      : "pending";
    const rows = [
      ["hash", el("code", {}, t.hash)], ["status", status], ["address", link("address", t.address)],
      ["value", `${t.value}i`], ["bundle", link("bundle", t.bundle)],
      ["index", `${t.currentIndex} of ${t.lastIndex}`], ["tag", t.tag],
      ["timestamp", new Date(t.timestamp * 1000).toISOString()],
      ["trunk", link("transaction", t.trunkTransaction)], ["branch", link("transaction", t.branchTransaction)],
      ["message", t.message ?? "-"],
    ];
    return el("div", { class: "view transaction" }, el("h2", {}, "Transaction"), table(["field", "value"], rows));
  },
  async bundle(value) {
    const b = await api(`bundle/${value}`);
    const moves = (items) => table(["address", "value"], items.map((m) => [link("address", m.address), `${m.value}i`]));
    return el("div", { class: "view bundle", "data-bundle": b.bundle },
      el("h2", {}, `Bundle (${b.confirmed ? "confirmed" : "pending"})`),
      el("p", {}, el("code", {}, b.bundle)),
      el("h3", {}, "Inputs"), moves(b.inputs),
      el("h3", {}, "Outputs"), el("div", { class: "outputs" }, moves(b.outputs)),
      el("h3", {}, "Message"), el("pre", { class: "message" }, b.message ?? "(none)"),
      el("h3", {}, "Transactions"),
      table(["index", "transaction", "address", "value"], b.transactions.map((t) => [
        String(t.currentIndex), link("transaction", t.hash), link("address", t.address), `${t.value}i`,
      ])),
      el("p", {}, `${b.attachments.length} attachment(s)`));
  },
  async milestone(value) {
    const m = await api(`milestone/${value}`);
    return el("div", { class: "view milestone" },
      el("h2", {}, `Milestone ${m.index}`),
      table(["hash", "time", "confirmed"], [[
        link("transaction", m.hash), new Date(m.timestamp * 1000).toISOString(), String(m.confirmedCount),
      ]]),
      el("h3", {}, "Confirmed transactions"),
      table(["transaction"], m.confirmed.map((h) => [link("transaction", h)])));
  },
  async mam(value, params) {
    const query = new URLSearchParams({ root: value, mode: params.get("mode") || "public" });
    if (params.get("sideKey")) query.set("sideKey", params.get("sideKey"));
    const c = await api(`mam?${query}`);
    const messages = c.messages.map((m, i) => el("div", { class: "mam-message" },
      el("h3", {}, `Message ${i + 1} at `, el("code", {}, m.root.slice(0, 16) + "…")),
      el("pre", { class: m.json === null ? "text" : "json" },
        m.json !== null ? JSON.stringify(m.json, null, 2) : (m.text ?? m.trytes))));
    return el("div", { class: "view mam" },
      el("h2", {}, `MAM channel (${c.mode}): ${c.messages.length} message(s)`),
      el("p", {}, "root ", el("code", {}, c.root)),
      ...messages,
      el("p", {}, "next root ", el("code", { class: "next-root" }, c.nextRoot)));
  },
};

async function show() {
  const [kind, rest = ""] = location.hash.slice(1).split("/");
  if (!views[kind]) {
    result.replaceChildren(el("p", {}, "Search for something, or follow a link from the overview."));
    return;
  }
  const [value, query = ""] = rest.split("?");
  if (kind === "mam") {
    // Fill the reader's form, so a restricted channel linked without its sideKey
    // only needs the key typed in.
    const params = new URLSearchParams(query);
    document.getElementById("mam-root").value = decodeURIComponent(value);
    document.getElementById("mam-mode").value = params.get("mode") || "public";
    document.getElementById("mam-sidekey").value = params.get("sideKey") || "";
  }
  result.replaceChildren(el("p", {}, "loading…"));
  try {
    result.replaceChildren(await views[kind](decodeURIComponent(value), new URLSearchParams(query)));
  } catch (error) {
    result.replaceChildren(el("p", { class: "error" }, error.message));
  }
}

document.getElementById("search").addEventListener("submit", async (event) => {
  event.preventDefault();
  const q = document.getElementById("query").value.trim();
  if (!q) return;
  try {
    const found = await api(`search?q=${encodeURIComponent(q)}`);
    location.hash = `${found.kind}/${found.target}`;
  } catch (error) {
    result.replaceChildren(el("p", { class: "error" }, error.message));
  }
});

document.getElementById("mam").addEventListener("submit", (event) => {
  event.preventDefault();
  const root = document.getElementById("mam-root").value.trim();
  const mode = document.getElementById("mam-mode").value;
  const sideKey = document.getElementById("mam-sidekey").value.trim();
  const extra = sideKey ? { mode, sideKey } : { mode };
  location.hash = `mam/${root}?${new URLSearchParams(extra)}`;
});

window.addEventListener("hashchange", show);
show();
