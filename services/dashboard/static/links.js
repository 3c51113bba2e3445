// Links into the devnet explorer, used by every view that shows an address, bundle or root.
"use strict";

const explorerLink = {
  href(kind, value, extra) {
    const query = extra ? `?${new URLSearchParams(extra)}` : "";
    return `explorer.html#${kind}/${encodeURIComponent(value)}${query}`;
  },
  // An <a> showing the start of a long hash, opening the explorer on it.
  make(kind, value, extra) {
    const a = document.createElement("a");
    a.href = explorerLink.href(kind, value, extra);
    a.className = `explorer-link ${kind}`;
    a.dataset.kind = kind;
    a.dataset.value = value;
    a.title = value;
    a.textContent = value.length > 20 ? `${value.slice(0, 16)}…` : value;
    return a;
  },
};
