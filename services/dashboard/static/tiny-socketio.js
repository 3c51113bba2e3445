// A small Socket.IO v5 client over the browser's WebSocket (Engine.IO protocol 4).
// Why not socket.io-client: the demo must not fetch anything from the internet, and the
// subset we need (connect, events, acks, ping/pong, reconnect) fits on one screen.
//
// Frames: "0{...}" open, "2" ping -> answer "3", "40" connect the default namespace,
// "42[event, data]" event, "42<id>[event, data]" event wanting an ack, "43<id>[data]" ack.
"use strict";

class TinySocket {
  constructor(baseUrl, path = "/sockets/") {
    const url = new URL(path, baseUrl);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.search = "EIO=4&transport=websocket";
    this.url = url.toString();
    this.handlers = {};
    this.acks = new Map();
    this.nextAckId = 0;
    this.connected = false;
    this.retryDelay = 500;
    this.open();
  }

  on(event, handler) {
    (this.handlers[event] = this.handlers[event] || []).push(handler);
    return this;
  }

  fire(event, ...args) {
    for (const handler of this.handlers[event] || []) handler(...args);
  }

  emit(event, data, ack) {
    if (!this.connected) return false;
    let id = "";
    if (ack) {
      id = String(this.nextAckId++);
      this.acks.set(id, ack);
    }
    this.ws.send("42" + id + JSON.stringify(data === undefined ? [event] : [event, data]));
    return true;
  }

  open() {
    this.ws = new WebSocket(this.url);
    this.ws.onmessage = (message) => this.receive(String(message.data));
    this.ws.onclose = () => {
      const was = this.connected;
      this.connected = false;
      if (was) this.fire("disconnect");
      // come back by ourselves: machines restart, and the demo should just carry on.
      // Full jitter like shared/retry.py's Backoff: many open pages that lost the same
      // machine do not all knock on it again at the same moment.
      setTimeout(() => this.open(), Math.max(50, Math.random() * this.retryDelay));
      this.retryDelay = Math.min(this.retryDelay * 2, 5000);
    };
  }

  receive(frame) {
    const type = frame[0];
    if (type === "0") {
      this.ws.send("40"); // Engine.IO is open: join the default Socket.IO namespace
    } else if (type === "2") {
      this.ws.send("3");
    } else if (type === "4") {
      this.receivePacket(frame.slice(1));
    }
  }

  receivePacket(packet) {
    const type = packet[0];
    const match = /^(\d*)(.*)$/s.exec(packet.slice(1));
    const id = match[1];
    const body = match[2] ? JSON.parse(match[2]) : null;
    if (type === "0") {
      this.connected = true;
      this.retryDelay = 500;
      this.fire("connect");
    } else if (type === "2") {
      const [event, ...args] = body;
      this.fire(event, ...args);
    } else if (type === "3") {
      const ack = this.acks.get(id);
      this.acks.delete(id);
      if (ack) ack(...body);
    } else if (type === "4") {
      this.fire("connect_error", body);
    } else if (type === "1") {
      this.ws.close();
    }
  }
}

window.TinySocket = TinySocket;
