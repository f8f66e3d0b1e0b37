// The member's page: rooms, a room's feed, and a post box, all from this node's API with the
// session cookie. Text from others is only ever set as textContent, never parsed as HTML.
"use strict";

const PAGE = { "X-Kiez-Page": "1" };
const REFRESH_MS = 2000;
let currentRoom = "";

async function api(method, path, body) {
  const init = { method, headers: { ...PAGE }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const answer = await fetch(path, init);
  const data = await answer.json().catch(() => ({}));
  if (answer.status === 401) {
    document.getElementById("login").hidden = false;
  }
  if (!answer.ok) {
    throw new Error(data.error || `the node answered ${answer.status}`);
  }
  return data;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function shortAddress(address) {
  return address ? `${address.slice(0, 6)}…${address.slice(-4)}` : "unknown";
}

async function showStatus() {
  const status = await api("GET", "/v1/status");
  document.getElementById("community").textContent = `kiez · ${status.name}`;
  const chain = status.chain.healthy ? "chain ok" : "chain NOT FOLLOWING";
  document.getElementById("node-status").textContent =
    `${status.peers} peers · ${chain} · ${status.store.post} posts stored`;
}

async function showRooms() {
  const { rooms } = await api("GET", "/v1/rooms");
  const list = document.getElementById("rooms");
  const entries = [{ id: "", name: "General", readable: true }, ...rooms.filter((r) => r.following)];
  list.replaceChildren(
    ...entries.map((room) => {
      const item = element("li");
      const button = element("button", "", room.readable ? room.name : `${room.name} (cannot read)`);
      button.type = "button";
      button.setAttribute("aria-current", String(room.id === currentRoom));
      button.addEventListener("click", () => {
        currentRoom = room.id;
        document.getElementById("room-title").textContent = room.name;
        refresh();
      });
      item.append(button);
      return item;
    }),
  );
}

function postItem(post) {
  const item = element("li");
  item.dataset.id = post.id;
  const when = new Date(post.timestamp_ms).toLocaleString();
  item.append(element("div", "meta", `${shortAddress(post.author)} · ${when}`));
  item.append(element("p", "text", post.text));
  const counts = Object.entries(post.reactions || {}).map(([r, n]) => `${r} ${n}`);
  if (post.replies) counts.push(`${post.replies} replies`);
  if (counts.length) item.append(element("div", "meta", counts.join(" · ")));
  return item;
}

async function showFeed() {
  const query = new URLSearchParams({ room: currentRoom, limit: "50" });
  const { items } = await api("GET", `/v1/feed?${query}`);
  document.getElementById("feed").replaceChildren(...items.map(postItem));
}

async function refresh() {
  try {
    await Promise.all([showStatus(), showRooms(), showFeed()]);
  } catch (error) {
    document.getElementById("node-status").textContent = error.message;
  }
}

document.getElementById("compose").addEventListener("submit", async (event) => {
  event.preventDefault();
  const box = document.getElementById("compose-text");
  const problem = document.getElementById("compose-error");
  problem.textContent = "";
  try {
    await api("POST", "/v1/posts", { text: box.value, room: currentRoom });
    box.value = "";
    await showFeed();
  } catch (error) {
    problem.textContent = error.message;
  }
});

refresh();
setInterval(refresh, REFRESH_MS);
