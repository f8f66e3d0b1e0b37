// The member's page: rooms, a room's feed with replies, reactions and attachments, and a post
// box, all from this node's API with the session cookie. Text from others is only ever set as
// textContent, never parsed as HTML.
import { api, button, element, kib, shortAddress } from "/app/common.js";
import { showGovernance, hideButton } from "/app/gov.js";
import { showNode } from "/app/node.js";
import { showBadge, showDigest, showNotices, wireNotices } from "/app/notices.js";
import { showProfile } from "/app/profile.js";
import { orderedPosts, showOpinions, sortNote, SORTS, whyLine } from "/app/ranking.js";
import { newRoomForm, roomTools, showRoomExtras } from "/app/rooms.js";

// a page left without its stream (a proxy that buffers, a node too old) still catches up
const FALLBACK_MS = 30000;
const REACTIONS = ["👍", "❤️", "🎉", "🤔"]; // the palette; any other reaction a post got is shown too
const GENERAL = { id: "", name: "General", readable: true, following: true, visibility: "open", topic: "" };
const state = {
  room: "", rooms: [GENERAL], me: null, open: new Set(), caps: null, shown: "", stream: null, view: "room", tools: "",
  focus: null, sort: "new", supporters: 3,
};
// each view's element, and the button that opens it
const VIEWS = {
  room: ["room-view", null], gov: ["gov", "show-gov"], node: ["node-view", "show-node"],
  notices: ["notices-view", "show-notices"], digest: ["digest-view", "show-digest"],
  opinions: ["opinions-view", "show-opinions"],
};

function showView(view) {
  state.view = view;
  for (const [name, [id, opener]] of Object.entries(VIEWS)) {
    document.getElementById(id).hidden = name !== view;
    if (opener) document.getElementById(opener).setAttribute("aria-current", String(name === view));
  }
}

async function showCurrent() {
  if (state.view === "gov") await showGovernance();
  else if (state.view === "node") await Promise.all([showNode(), showProfile(state.me)]);
  else if (state.view === "notices") await showNotices();
  else if (state.view === "digest") await showDigest();
  else if (state.view === "opinions") await showOpinions();
  else await Promise.all([showFeed(), showRoomExtras(state.room, () => refresh())]);
}

function currentRoom() {
  return state.rooms.find((room) => room.id === state.room) || GENERAL;
}

function openRoom(id) {
  state.room = id;
  state.tools = "";
  showView("room");
  refresh([showRooms, showCurrent]);
}

// A post's thread opened in its room, from a notification or the digest: a reply opens the
// thread of the post it answers.
async function openThread(id) {
  let { post } = await api("GET", `/v1/posts/${id}`);
  for (let hops = 0; post.parent && hops < 8; hops += 1) ({ post } = await api("GET", `/v1/posts/${post.parent}`));
  state.open.add(post.id);
  state.focus = post.id;
  openRoom(post.room);
}

// The post a notification opened, scrolled to once the feed shows it.
function showFocus(items) {
  const id = state.focus;
  state.focus = null;
  const item = [...document.getElementById("feed").children].find((li) => li.dataset.id === id);
  if (!item) {
    document.getElementById("room-note").textContent = `that post is not among the ${items.length} newest shown here`;
    return;
  }
  item.scrollIntoView({ block: "start" });
  item.querySelector("[data-role=thread]").focus();
}

async function showStatus() {
  const status = await api("GET", "/v1/status");
  state.me = status.member;
  state.caps = status.media_policy;
  document.getElementById("community").textContent = `kiez · ${status.name}`;
  const chain = status.chain.healthy ? "chain ok" : "chain NOT FOLLOWING";
  document.getElementById("node-status").textContent =
    `${status.peers} peers · ${chain} · ${status.store.post} posts stored`;
  const caps = status.media_policy;
  document.getElementById("compose-caps").textContent =
    `At most ${caps.max_attachments} per post, each at most ${kib(caps.max_attachment_bytes)} (the community's rule).`;
}

async function showRooms() {
  const { rooms } = await api("GET", "/v1/rooms");
  state.rooms = [GENERAL, ...rooms.filter((r) => r.following), ...rooms.filter((r) => !r.following)];
  document.getElementById("rooms").replaceChildren(
    ...state.rooms.map((room) => {
      const item = element("li");
      const label = `${room.name}${room.readable ? "" : " (cannot read)"}${room.following ? "" : " · not joined"}`;
      item.append(button(label, () => openRoom(room.id), {
        "aria-current": String(state.view === "room" && room.id === state.room),
      }, ""));
      return item;
    }),
  );
  const room = currentRoom();
  document.getElementById("room-title").textContent = room.name;
  const tools = JSON.stringify(room);
  if (tools !== state.tools) { // redrawn only when the room changed: the invite field keeps what is typed
    if (JSON.parse(state.tools || "{}").id !== room.id) document.getElementById("room-note").textContent = "";
    state.tools = tools;
    document.getElementById("room-tools").replaceChildren(roomTools(room, () => refresh()));
  }
}

function attachmentView(attachment, author) {
  const url = `/v1/blobs/${attachment.sha256}`;
  if (!attachment.held) return element("p", "meta", `${attachment.mime} ${kib(attachment.size)}: fetching from peers…`);
  if (attachment.mime.startsWith("image/")) {
    const picture = element("img", "picture");
    picture.src = url;
    picture.alt = `a picture attached by ${author.startsWith("0x") ? shortAddress(author) : author}`;
    return picture;
  }
  const link = element("a", "", `PDF, ${kib(attachment.size)}`);
  link.href = url;
  return link;
}

// One button per reaction of the palette: its count, pressed when it is the member's own;
// pressing it again takes the reaction back.
function reactionButtons(post) {
  const counts = post.reactions || {};
  const mine = new Set(post.mine || []);
  const shown = [...REACTIONS, ...Object.keys(counts).filter((r) => !REACTIONS.includes(r))];
  return shown.map((reaction) => {
    const count = counts[reaction] || 0;
    const pressed = mine.has(reaction);
    const label = count ? `${reaction} ${count}` : reaction;
    return button(label, async () => {
      await api("POST", "/v1/reactions", { target: post.id, reaction, active: !pressed, room: post.room });
      await refresh([showFeed]);
    }, {
      "aria-label": `${reaction} ${count}: ${pressed ? "take your reaction back" : "react to this post"}`,
      "aria-pressed": String(pressed),
      "data-role": "react",
      "data-reaction": reaction,
    });
  });
}

function postItem(post, asReply) {
  const item = element(asReply ? "div" : "li", asReply ? "reply" : "post");
  item.dataset.id = post.id;
  const when = new Date(post.timestamp_ms).toLocaleString();
  item.append(element("div", "meta", `${post.author_name || shortAddress(post.author)} · ${when}`));
  item.append(element("p", "text", post.text));
  const why = asReply ? null : whyLine(post);
  if (why) item.append(why);
  for (const attachment of post.attachments || []) item.append(attachmentView(attachment, post.author_name || post.author));
  const actions = element("div", "actions");
  actions.append(...reactionButtons(post));
  if (!asReply) {
    const label = `replies ${post.replies}`;
    actions.append(button(label, () => toggleThread(post.id), { "aria-expanded": String(state.open.has(post.id)), "data-role": "thread" }));
  }
  if (!asReply && post.author !== state.me) actions.append(hideButton(post));
  if (post.author === state.me) {
    actions.append(button("delete", async () => {
      await api("POST", "/v1/deletes", { target: post.id, room: post.room });
      await refresh([showFeed]);
    }, { "aria-label": "delete your post", "data-role": "delete" }));
  }
  item.append(actions);
  return item;
}

function toggleThread(id) {
  if (state.open.has(id)) state.open.delete(id);
  else state.open.add(id);
  refresh([showFeed]);
}

function threadView(post, replies) {
  const box = element("div", "thread");
  box.append(...replies.map((reply) => postItem(reply, true)));
  const form = element("form", "reply-form");
  const field = element("textarea");
  field.rows = 2;
  field.required = true;
  field.setAttribute("aria-label", "your reply");
  const problem = element("p", "error");
  problem.setAttribute("role", "alert");
  form.append(field, element("button", "", "Reply"), problem);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", "/v1/posts", { text: field.value, parent: post.id, room: post.room });
      field.value = "";
      await refresh([showFeed]);
    } catch (error) {
      problem.textContent = error.message;
    }
  });
  box.append(form);
  return box;
}

async function showFeed() {
  const active = document.activeElement;
  if (active && active.tagName === "TEXTAREA" && active.closest(".reply-form") && active.value) return; // typing
  const items = await orderedPosts(state.sort, state.room, state.supporters);
  const threads = await Promise.all(
    items.map((post) => (state.open.has(post.id) ? api("GET", `/v1/posts/${post.id}`) : null)),
  );
  // re-render only what changed: a page that redraws under the member's pointer loses clicks
  const signature = JSON.stringify([state.me, state.sort, items, threads]);
  if (signature !== state.shown) {
    state.shown = signature;
    document.getElementById("feed").setAttribute("aria-label", SORTS[state.sort]);
    document.getElementById("feed-sort-note").textContent = sortNote(state.sort, items.length, state.supporters, state.room);
    document.getElementById("feed").replaceChildren(
      ...items.map((post, index) => {
        const item = postItem(post, false);
        if (threads[index]) item.append(threadView(post, threads[index].replies));
        return item;
      }),
    );
  }
  if (state.focus) showFocus(items);
}

async function redraw(parts) {
  try {
    await Promise.all(parts.map((part) => part()));
  } catch (error) {
    document.getElementById("node-status").textContent = error.message;
  }
}

// One redraw at a time: a redraw that started earlier must never finish after a later one and
// paint an older feed over it; what is asked for meanwhile runs once, after the current one.
const drawing = { running: null, queued: null };

function refresh(parts = [showStatus, showRooms, showBadge, showCurrent]) {
  if (drawing.running) {
    drawing.queued = [...new Set([...(drawing.queued || []), ...parts])];
    return drawing.running;
  }
  drawing.running = redraw(parts).finally(() => {
    drawing.running = null;
    const next = drawing.queued;
    drawing.queued = null;
    if (next) refresh(next);
  });
  return drawing.running;
}

function listen() {
  const stream = new EventSource("/v1/stream");
  state.stream = stream;
  stream.addEventListener("change", () => refresh());
  // a tick also counts the reminders that fell due meanwhile
  stream.addEventListener("tick", () => refresh({
    node: [showStatus, showNode, showBadge], notices: [showStatus, showNotices],
  }[state.view] || [showStatus, showBadge]));
  stream.addEventListener("open", () => {
    document.body.classList.remove("offline");
    document.body.dataset.stream = "open";
  });
  stream.addEventListener("error", () => {
    document.body.classList.add("offline");
    document.body.dataset.stream = "lost";
    if (stream.readyState === EventSource.CLOSED) {
      refresh([showStatus]); // a 401 shows the login hint; anything else says what the node answered
      setTimeout(listen, FALLBACK_MS);
    }
  });
}

async function upload(files) {
  const caps = state.caps;
  if (caps && files.length > caps.max_attachments) {
    throw new Error(`the community allows at most ${caps.max_attachments} attachments per post`);
  }
  const hashes = [];
  for (const file of files) {
    if (caps && file.size > caps.max_attachment_bytes) {
      throw new Error(`${file.name} is ${kib(file.size)}; the community allows at most ${kib(caps.max_attachment_bytes)}`);
    }
    hashes.push((await api("POST", "/v1/blobs", undefined, file)).sha256);
  }
  return hashes;
}

document.getElementById("compose").addEventListener("submit", async (event) => {
  event.preventDefault();
  const box = document.getElementById("compose-text");
  const files = document.getElementById("compose-files");
  const problem = document.getElementById("compose-error");
  problem.textContent = "";
  try {
    const attachments = await upload([...files.files]);
    await api("POST", "/v1/posts", { text: box.value, room: state.room, attachments });
    box.value = "";
    files.value = "";
    await refresh([showFeed]);
  } catch (error) {
    problem.textContent = error.message;
  }
});

document.getElementById("new-room").replaceChildren(newRoomForm((id) => openRoom(id)));
document.getElementById("show-node").addEventListener("click", () => {
  showView("node");
  refresh([showRooms, showNode, () => showProfile(state.me)]);
});
document.getElementById("show-gov").addEventListener("click", () => {
  showView("gov");
  refresh([showRooms, showGovernance]);
});
document.getElementById("feed-sort").addEventListener("change", (event) => {
  state.sort = event.target.value;
  document.getElementById("feed-supporters-box").hidden = state.sort !== "bridging";
  refresh([showFeed]);
});
document.getElementById("feed-supporters").addEventListener("change", (event) => {
  state.supporters = Math.min(1000, Math.max(1, Number.parseInt(event.target.value, 10) || 3));
  refresh([showFeed]);
});
for (const view of ["notices", "digest", "opinions"]) {
  document.getElementById(`show-${view}`).addEventListener("click", () => {
    showView(view);
    refresh([showRooms, showBadge, showCurrent]);
  });
}
wireNotices({ openThread, openRoom, after: () => refresh([showBadge, showCurrent]) });

refresh();
listen();
setInterval(() => {
  if (!state.stream || state.stream.readyState !== EventSource.OPEN) refresh(); // only without the stream
}, FALLBACK_MS);
