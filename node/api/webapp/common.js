// What every part of the page shares: the API call with the session cookie and the page's own
// header, and the builders of elements (text is only ever set as textContent, never parsed as HTML).

const PAGE = { "X-Kiez-Page": "1" };

export async function api(method, path, body, raw) {
  const init = { method, headers: { ...PAGE }, credentials: "same-origin" };
  if (raw) {
    init.headers["Content-Type"] = raw.type;
    init.body = raw;
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const answer = await fetch(path, init);
  const data = await answer.json().catch(() => ({}));
  if (answer.status === 401) document.getElementById("login").hidden = false;
  if (!answer.ok) throw new Error(data.error || `the node answered ${answer.status}`);
  return data;
}

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function button(label, onClick, attributes = {}, className = "small") {
  const node = element("button", className, label);
  node.type = "button";
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.addEventListener("click", onClick);
  return node;
}

export function shortAddress(address) {
  return address ? `${address.slice(0, 6)}…${address.slice(-4)}` : "unknown";
}

export function kib(bytes) {
  return `${Math.floor(bytes / 1024)} KiB`;
}

