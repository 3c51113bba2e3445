// The overview: live charts of the economy (plotly, served by the dashboard itself).
// History comes from GET /api/series (the server keeps the past hour); new points arrive
// over server-sent events (GET /api/stream) and are appended without a reload.
//
// The page holds every point (up to the server's MAX_POINTS per series) but draws at most
// DISPLAY_POINTS per trace, keeping each bucket's minimum and maximum: a chart is a few
// hundred pixels wide, and drawing 10,000 SVG points per update made the page stall.
"use strict";

const overview = (() => {
  // chart id -> which series it draws (a name, or a prefix ending in ":")
  const CHARTS = {
    "chart-balances": { match: "balance:" },
    "chart-orders": { match: "orders_per_minute" },
    "chart-latency": { match: "order_latency_s" },
    "chart-milestones": { match: "milestone_index" },
    "chart-tps": { match: "confirmed_tps" },
    "chart-delay": { match: "confirmation_delay_s" },
    "chart-lock": { match: "lock_events" },
  };
  const DISPLAY_POINTS = 1200;
  let maxPoints = 10000;
  let historySeconds = 3600;
  const held = new Map(); // series name -> {x: [ms], y: []}
  const layouts = {};
  const pending = new Set(); // charts waiting to be redrawn
  const drawTimes = []; // ms of the most recent redraws, for the responsiveness check

  function chartFor(name) {
    for (const [id, spec] of Object.entries(CHARTS)) {
      if (spec.match.endsWith(":") ? name.startsWith(spec.match) : name === spec.match) return id;
    }
    return null;
  }

  function label(name) {
    return name.includes(":") ? name.split(":").slice(1).join(":") : name.replaceAll("_", " ");
  }

  // Min/max per bucket: peaks and dips survive, the line keeps its shape.
  function decimate(x, y, target) {
    if (x.length <= target) return { x, y };
    const buckets = Math.floor(target / 2);
    const size = x.length / buckets;
    const ox = [];
    const oy = [];
    for (let b = 0; b < buckets; b++) {
      const start = Math.floor(b * size);
      const end = Math.min(x.length, Math.floor((b + 1) * size));
      let lo = start;
      let hi = start;
      for (let i = start + 1; i < end; i++) {
        if (y[i] < y[lo]) lo = i;
        if (y[i] > y[hi]) hi = i;
      }
      const first = Math.min(lo, hi);
      const second = Math.max(lo, hi);
      ox.push(x[first]);
      oy.push(y[first]);
      if (second !== first) {
        ox.push(x[second]);
        oy.push(y[second]);
      }
    }
    if (ox[ox.length - 1] !== x[x.length - 1]) {
      ox.push(x[x.length - 1]);
      oy.push(y[y.length - 1]);
    }
    return { x: ox, y: oy };
  }

  function newPlot(id) {
    const div = document.getElementById(id);
    layouts[id] = {
      title: { text: div.dataset.title, font: { size: 14 } },
      margin: { l: 50, r: 10, t: 36, b: 36 },
      height: 240,
      xaxis: { type: "date" },
      showlegend: true,
      legend: { orientation: "h", y: -0.25 },
      uirevision: "keep", // a user's zoom survives live updates
    };
    // An empty chart says so in words instead of drawing a date axis around nothing
    // (plotly's default range for an empty date axis is the year 2000).
    const box = document.createElement("figure");
    box.className = "chart-box";
    div.replaceWith(box);
    const empty = document.createElement("p");
    empty.className = "empty-state";
    empty.textContent = `${div.dataset.title}: ${div.dataset.empty || "no data yet"}`;
    box.append(div, empty);
    showEmpty(id, true);
    Plotly.newPlot(div, [], layouts[id], { displayModeBar: false, responsive: true });
  }

  function showEmpty(id, isEmpty) {
    const div = document.getElementById(id);
    div.classList.toggle("is-empty", isEmpty);
    div.nextElementSibling.hidden = !isEmpty;
    layouts[id].xaxis.visible = !isEmpty;
    layouts[id].yaxis = { visible: !isEmpty };
  }

  function hold(name, points) {
    let series = held.get(name);
    if (!series) {
      series = { x: [], y: [] };
      held.set(name, series);
    }
    for (const [t, v] of points) {
      series.x.push(t * 1000);
      series.y.push(v);
    }
    const horizon = Date.now() - historySeconds * 1000;
    let drop = Math.max(0, series.x.length - maxPoints);
    while (drop < series.x.length && series.x[drop] < horizon) drop++;
    if (drop > 0) {
      series.x.splice(0, drop);
      series.y.splice(0, drop);
    }
  }

  function draw(id) {
    const started = performance.now();
    const names = [...held.keys()].filter((name) => chartFor(name) === id).sort();
    const traces = names.map((name) => ({
      name: label(name),
      type: "scatter",
      mode: "lines",
      ...decimate(held.get(name).x, held.get(name).y, DISPLAY_POINTS),
    }));
    showEmpty(id, traces.length === 0);
    Plotly.react(document.getElementById(id), traces, layouts[id]);
    drawTimes.push(performance.now() - started);
    if (drawTimes.length > 50) drawTimes.shift();
  }

  // One chart per animation frame: the page answers clicks and scrolls between redraws.
  function drawNext() {
    const [id] = pending;
    if (id === undefined) return;
    pending.delete(id);
    draw(id);
    if (pending.size) requestAnimationFrame(drawNext);
  }

  // Take a batch {series: {name: [[t, v], ...]}, totals}; redraw each touched chart once.
  function apply(body) {
    const touched = new Set();
    for (const [name, points] of Object.entries(body.series || {})) {
      const id = chartFor(name);
      if (!id || points.length === 0) continue;
      hold(name, points);
      touched.add(id);
    }
    const idle = pending.size === 0;
    for (const id of touched) pending.add(id);
    if (idle && pending.size) requestAnimationFrame(drawNext);
    for (const [name, value] of Object.entries(body.totals || {})) {
      const element = document.getElementById(`total-${name}`);
      if (element) element.textContent = Math.round(value).toLocaleString("en-US");
    }
  }

  function connect(seq) {
    const source = new EventSource(`/api/stream?after=${seq}`);
    source.addEventListener("points", (event) => apply(JSON.parse(event.data)));
    // EventSource reconnects by itself (the server asks for 2 s, the browser adds its own
    // delay); the stream resends everything after the last sequence number it sent.
  }

  async function start() {
    for (const id of Object.keys(CHARTS)) newPlot(id);
    const config = await (await fetch("/api/series")).json();
    maxPoints = config.maxPoints || maxPoints;
    historySeconds = config.historySeconds || historySeconds;
    apply(config);
    connect(config.seq);
  }

  // For tests and the curious: points drawn, and points held, per chart.
  function pointCounts() {
    const counts = {};
    for (const id of Object.keys(CHARTS)) {
      const div = document.getElementById(id);
      counts[id] = (div.data || []).reduce((sum, trace) => sum + trace.x.length, 0);
    }
    return counts;
  }

  function heldCounts() {
    const counts = {};
    for (const [name, series] of held) {
      const id = chartFor(name);
      counts[id] = (counts[id] || 0) + series.x.length;
    }
    return counts;
  }

  // Resolves when every queued redraw is done.
  function settled() {
    return new Promise((resolve) => {
      const check = () => (pending.size ? requestAnimationFrame(check) : resolve());
      check();
    });
  }

  return { start, apply, settled, pointCounts, heldCounts, drawTimes };
})();

overview.start();
