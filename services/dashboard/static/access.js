// The Access panel (issue 23): the lock's tools, prices, sessions and income, polled from
// GET /api/access (the dashboard asks the lock controller; the browser needs only us).
"use strict";

(function () {
  const REFRESH_MS = 3000;
  const status = document.getElementById("access-status");

  function text(value) {
    return value === null || value === undefined || value === "" ? "-" : String(value);
  }

  function fill(tableId, rows) {
    const body = document.querySelector(`#${tableId} tbody`);
    body.replaceChildren(
      ...rows.map((cells) => {
        const tr = document.createElement("tr");
        for (const cell of cells) {
          const td = document.createElement("td");
          td.textContent = text(cell); // textContent: names come from the lock's users
          tr.appendChild(td);
        }
        return tr;
      })
    );
  }

  function who(tool) {
    if (tool.session) return `session ${tool.session.id} (${tool.session.state})`;
    return tool.holder;
  }

  function render(data) {
    status.classList.remove("error");
    if (!data.configured) {
      status.textContent = "No lock controller: set LOCK_URL (and LOCK_USER, LOCK_PASSWORD).";
      return;
    }
    if (!data.up) {
      status.classList.add("error");
      status.textContent = "the lock controller does not answer";
      return;
    }
    status.textContent = data.account
      ? `live, updated ${new Date().toLocaleTimeString()}`
      : "tools only: set LOCK_USER and LOCK_PASSWORD for sessions and income";
    fill(
      "access-tools",
      data.tools.map((t) => [
        t.name,
        t.pricing,
        t.pricing === "paid" ? t.price_per_minute : "-",
        t.pricing === "paid" ? t.min_minutes : "-",
        t.lock_state,
        who(t),
        t.income,
      ])
    );
    fill(
      "access-sessions",
      data.sessions.map((s) => [
        s.id,
        s.tool,
        s.state,
        s.paid,
        Math.round(s.minutes * 1000) / 1000,
        Math.round(s.seconds_left),
        new Date(s.started_at).toLocaleTimeString(),
        s.payer,
      ])
    );
    const income = data.income || {};
    document.getElementById("access-income").textContent = text(income.total);
    document.getElementById("access-refused").textContent = text(income.refused);
    document.getElementById("access-settled").textContent = text(income.wallet_balance);
  }

  async function refresh() {
    try {
      const reply = await fetch("/api/access", { headers: { Accept: "application/json" } });
      if (!reply.ok) throw new Error(`HTTP ${reply.status}`);
      render(await reply.json());
    } catch (error) {
      status.classList.add("error");
      status.textContent = `cannot load /api/access: ${error.message}`;
    }
    setTimeout(refresh, REFRESH_MS);
  }

  refresh();
})();
