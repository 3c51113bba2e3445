// The demo page: one card per machine, live over each machine's Socket.IO, plus the faucet.
"use strict";

const logList = document.getElementById("log");

// A log line; `parts` may mix strings and elements (explorer links).
function log(text, ...parts) {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  for (const part of parts) item.append(part);
  logList.prepend(item);
}

function makeCard(machine, isProvider) {
  const card = document.getElementById("machine-card").content.firstElementChild.cloneNode(true);
  card.dataset.machine = machine.name;
  card.classList.add(isProvider ? "provider" : "robot");
  card.querySelector(".name").textContent = machine.name;
  if (isProvider) card.querySelector(".made-label").textContent = "energy orders delivered";
  return card;
}

function connectMachine(machine, card, payLimit) {
  const isProvider = card.classList.contains("provider");
  const $ = (selector) => card.querySelector(selector);
  const socket = new TinySocket(machine.url);
  let current = {};
  let previousStatus = null;

  function showStatus(status) {
    const badge = $(".status");
    badge.textContent = status;
    badge.className = "badge status " + status;
    card.dataset.status = status;
  }

  function refreshButtons() {
    const status = card.dataset.status;
    $(".order").disabled = !socket.connected || status === "booting";
    $(".pay").disabled = !(status === "waiting_for_tx" && current.address && current.price);
  }

  socket.on("connect", () => {
    log(`${machine.name}: connected`);
    refreshButtons();
  });
  socket.on("disconnect", () => {
    showStatus("offline");
    refreshButtons();
    log(`${machine.name}: connection lost, reconnecting`);
  });
  socket.on("welcome", (data) => {
    showStatus(data.status);
    refreshButtons();
  });
  socket.on("status", (data) => {
    current = data;
    showStatus(data.status);
    $(".message").textContent = data.message || "-";
    const info = $(".order-info");
    info.textContent = data.address ? `${data.order_id || ""} pay ${data.price}i to ` : "-";
    if (data.address) info.append(explorerLink.make("address", data.address));
    if (previousStatus === "working" && data.status === "waiting_for_order") {
      readStats();
      const what = isProvider ? "energy delivered" : "product finished";
      log(`${machine.name}: ${what} (${data.message})`);
    } else if (previousStatus !== null && previousStatus !== data.status) {
      log(`${machine.name}: ${data.status}: ${data.message}`);
    }
    previousStatus = data.status;
    refreshButtons();
  });
  socket.on("balance", (data) => {
    $(".balance").textContent = `${data.balance}i`;
  });
  // The counter and whether the machine has payment channels come from the machine's own
  // GET /stats (its database), read at start and after each finished job: a reload shows
  // what the machine has made, not what this page happened to watch.
  let watching = false;
  async function readStats() {
    try {
      const reply = await fetch(`${machine.url}/stats`);
      if (!reply.ok) return;
      const stats = await reply.json();
      $(".made").textContent = String(isProvider ? stats.finished.energy : stats.finished.products);
      if (!stats.channel) $(".channel").textContent = "none (pays on the ledger)";
      else if (!watching) {
        watching = true;
        watchChannel(machine, $(".channel"));
      }
    } catch (error) {
      // the machine is not reachable yet: the next finished job or reconnect reads again
    }
  }
  socket.on("connect", readStats);
  socket.on("queued", (data) => log(`${machine.name}: ${data.message}`));
  socket.on("error", (data) => log(`${machine.name}: error: ${data.reason}`));

  $(".order").addEventListener("click", () => {
    socket.emit("order", { product: "product", customer: "browser" }, (reply) => {
      if (reply && reply.error) log(`${machine.name}: order refused: ${reply.error}`);
      else log(`${machine.name}: order ${reply.order_id} placed, price ${reply.price}i`);
    });
  });
  $(".pay").addEventListener("click", async () => {
    const { address, price } = current;
    if (price > payLimit) {
      log(`${machine.name}: price ${price}i is above the faucet limit ${payLimit}i`);
      return;
    }
    $(".pay").disabled = true;
    log(`${machine.name}: paying ${price}i from the faucet`);
    const reply = await fetch("/api/pay", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ address, value: price }),
    });
    if (!reply.ok) {
      log(`${machine.name}: payment failed: ${await reply.text()}`);
      return;
    }
    const sent = await reply.json();
    log(`${machine.name}: payment sent, bundle `, explorerLink.make("bundle", sent.bundle));
  });
}

// The machine's payment channels (GET /channel, docs/channels.md): balances and status.
// Only called for a machine whose GET /stats says it has channels.
function watchChannel(machine, cell) {
  async function refresh() {
    try {
      const reply = await fetch(`${machine.url}/channel`);
      if (!reply.ok) {
        cell.textContent = "-";
        return;
      }
      const { channels } = await reply.json();
      cell.textContent = channels.length === 0 ? "no channel yet" : channels.map((c) =>
        `${c.status}, period ${c.period}: deposited ${c.amount_deposited_by_me}i, ` +
        `paid ${c.amount_spent_by_me}i (${c.my_payments_count}), ` +
        `received ${c.amount_spent_by_peer}i (${c.peer_payments_count}), ` +
        `free ${c.free_amount}i`).join("; ");
    } catch (error) {
      cell.textContent = "-";
    }
  }
  refresh();
  setInterval(refresh, 3000);
}

async function main() {
  const config = await (await fetch("/api/machines")).json();
  const byName = new Map(config.machines.map((m) => [m.name, m]));
  const providers = new Set(config.machines.map((m) => m.provider).filter(Boolean));
  const pairs = document.getElementById("pairs");
  const shown = new Set();
  for (const machine of config.machines) {
    if (shown.has(machine.name) || providers.has(machine.name) && !machine.provider) continue;
    const row = document.createElement("section");
    row.className = "pair";
    const robotCard = makeCard(machine, false);
    row.append(robotCard);
    connectMachine(machine, robotCard, config.pay_limit);
    shown.add(machine.name);
    const provider = byName.get(machine.provider);
    if (provider) {
      const arrow = document.createElement("span");
      arrow.className = "arrow";
      arrow.textContent = "\u2192";
      const providerCard = makeCard(provider, true);
      row.append(arrow, providerCard);
      connectMachine(provider, providerCard, config.pay_limit);
      shown.add(provider.name);
    }
    pairs.append(row);
  }
  // providers nobody buys from still get a card
  for (const machine of config.machines) {
    if (shown.has(machine.name)) continue;
    const row = document.createElement("section");
    row.className = "pair";
    const card = makeCard(machine, true);
    row.append(card);
    connectMachine(machine, card, config.pay_limit);
    pairs.append(row);
  }
  log("dashboard ready");
}

main();
