// The energy view: polls /api/energy and redraws plotly line charts and the books.
"use strict";

(function () {
  const status = document.getElementById("energy-status");
  const layout = {
    margin: { l: 50, r: 10, t: 10, b: 40 },
    xaxis: { type: "date" },
    yaxis: { hoverformat: ".3~f" }, // at most three decimals in the hover label
    legend: { orientation: "h" },
  };
  const config = { displayModeBar: false, responsive: true };
  let refreshMs = 2000;

  function series(name, points, valueKey) {
    return {
      name: name,
      type: "scatter",
      mode: "lines+markers",
      x: points.map((p) => new Date(p.endTime)),
      y: points.map((p) => p[valueKey]),
    };
  }

  // kWh and prices are floats on the wire (42.621888000000006): a table shows at most three
  // decimals (watt-hours), tokens are integers and stay as they are.
  function formatCell(cell) {
    if (typeof cell !== "number" || Number.isInteger(cell)) return String(cell);
    return String(Math.round(cell * 1000) / 1000);
  }

  function draw(id, traces) {
    const element = document.getElementById(id);
    Plotly.react(element, traces, layout, config);
    element.dataset.points = String(traces.reduce((n, t) => n + t.x.length, 0));
  }

  function fillRows(tableId, rows) {
    const body = document.querySelector(`#${tableId} tbody`);
    body.replaceChildren(
      ...rows.map((cells) => {
        const tr = document.createElement("tr");
        cells.forEach((cell, i) => {
          const td = document.createElement("td");
          td.textContent = cell === null || cell === undefined ? "-" : formatCell(cell);
          if (tableId === "channels" && i === 2) {
            td.className = "root";
            // Restricted channels: the explorer's MAM reader asks for the sideKey.
            if (cell) td.replaceChildren(explorerLink.make("mam", String(cell), { mode: "restricted" }));
          }
          tr.appendChild(td);
        });
        return tr;
      })
    );
  }

  // Only http(s) links from the grid's answer become anchors.
  function webLink(url, text) {
    if (typeof url !== "string" || !/^https?:\/\//.test(url)) return document.createTextNode(text);
    const a = document.createElement("a");
    a.href = url;
    a.target = "_blank";
    a.rel = "noopener";
    a.textContent = text;
    return a;
  }

  // The grid's audit trail: records in the ledger kept by the grid, producer and consumer
  // participants, each with the link to its inclusion proof (the ledger asks for BasicAuth).
  function renderAudit(audit) {
    const line = document.getElementById("audit-status");
    const body = document.querySelector("#audit tbody");
    if (!audit || !audit.enabled) {
      line.textContent = audit ? "off: the grid has no GRID_LEDGER_URL" : "-";
      body.replaceChildren();
      return;
    }
    const parts = [`ledger ${audit.ledger}`, `${audit.sent} recorded`, `${audit.pending} pending`];
    if (audit.lastError) parts.push(`last error: ${audit.lastError}`);
    line.replaceChildren(
      audit.ledgerUrl ? webLink(audit.ledgerUrl, audit.ledger) : document.createTextNode(audit.ledger),
      document.createTextNode(`: ${parts.slice(1).join(", ")}`)
    );
    body.replaceChildren(
      ...audit.recent.map((record) => {
        const tr = document.createElement("tr");
        const of = record.kind === "slice" ? new Date(record.ref).toLocaleTimeString() : `#${record.ref}`;
        const cells = [record.kind, of, null, record.sentAt ? new Date(record.sentAt).toLocaleTimeString() : "-"];
        cells.forEach((cell, i) => {
          const td = document.createElement("td");
          if (i === 2) td.appendChild(webLink(record.proofUrl, String(record.seqNo)));
          else td.textContent = String(cell);
          tr.appendChild(td);
        });
        tr.title = record.no;
        return tr;
      })
    );
  }

  // Batteries (docs/battery.md): a table of its own, made when the first battery answers.
  function renderBatteries(batteries) {
    let section = document.getElementById("batteries-card");
    if (!batteries || batteries.length === 0) {
      if (section) section.remove();
      return;
    }
    if (!section) {
      section = document.createElement("section");
      section.id = "batteries-card";
      section.className = "books";
      section.innerHTML =
        "<h2>Batteries</h2><table id=\"batteries\"><thead><tr><th>battery</th>" +
        "<th>state of charge (kWh)</th><th>charged</th><th>bought (kWh)</th><th>sold (kWh)</th>" +
        "<th>paid</th><th>received</th><th>profit</th><th>last</th></tr></thead>" +
        "<tbody></tbody></table>";
      const books = document.querySelector("main.energy section.books");
      books.parentNode.insertBefore(section, books.nextSibling);
    }
    fillRows(
      "batteries",
      batteries.map((b) => {
        const s = b.status || {};
        const percent = s.stateOfChargePercent === undefined ? "-" : `${s.stateOfChargePercent} %`;
        return [b.name, s.stateOfCharge, percent, s.bought, s.sold, s.paid, s.received, s.profit, s.lastAction];
      })
    );
  }

  function render(data) {
    const sources = [];
    const channels = [];
    for (const producer of data.producers) {
      channels.push([producer.name, "producer", producer.root]);
      for (const source of producer.sources) {
        sources.push(series(`${source.itemName} (${source.itemType})`, source.outputs, "output"));
        channels.push([source.itemName, source.itemType, source.root]);
      }
    }
    draw("chart-sources", sources);
    draw("chart-producers", data.producers.map((p) => series(p.name, p.slices, "output")));
    draw(
      "chart-consumers",
      data.consumers.map((c) => series(`${c.name} (${c.profile || "?"})`, c.usage, "usage"))
    );
    for (const consumer of data.consumers) {
      channels.push([consumer.name, "consumer", consumer.root]);
      channels.push([consumer.name, "grid return channel", consumer.returnRoot]);
    }
    const grid = data.grid;
    draw("chart-price", grid ? [series("clearing price", grid.prices, "price")] : []);
    const books = (grid && grid.accounts) || { totals: {}, consumers: {}, producers: {} };
    fillRows(
      "totals",
      Object.entries(books.totals || {}).map(([key, value]) => [key, value])
    );
    fillRows(
      "consumers",
      Object.entries(books.consumers || {}).map(([id, row]) => [
        id, row.requested, row.paid, row.pending, row.owed,
      ])
    );
    fillRows(
      "producers",
      Object.entries(books.producers || {}).map(([id, row]) => [
        id, row.output, row.paidOut, row.due,
      ])
    );
    fillRows("channels", channels);
    renderAudit(grid && grid.audit);
    const batteries = data.batteries || [];
    renderBatteries(batteries);
    const down = [...data.producers, ...data.consumers, ...batteries]
      .filter((s) => !s.up)
      .map((s) => s.name);
    if (grid && !grid.up) down.push("grid");
    status.classList.toggle("error", down.length > 0 || !data.configured);
    status.textContent = !data.configured
      ? "Nothing to show: set ENERGY_GRID_URL, ENERGY_PRODUCER_URLS and ENERGY_CONSUMER_URLS."
      : down.length
        ? `unreachable: ${down.join(", ")}`
        : `live, updated ${new Date().toLocaleTimeString()}`;
  }

  async function refresh() {
    try {
      const reply = await fetch("/api/energy", { headers: { Accept: "application/json" } });
      if (!reply.ok) throw new Error(`HTTP ${reply.status}`);
      const data = await reply.json();
      refreshMs = Math.max(500, (data.refreshSeconds || 2) * 1000);
      render(data);
    } catch (error) {
      status.classList.add("error");
      status.textContent = `cannot load /api/energy: ${error.message}`;
    }
    setTimeout(refresh, refreshMs);
  }

  refresh();
})();
