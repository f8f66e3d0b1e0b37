// The member's notifications (replies, mentions, reactions, votes waiting, reminders, moderation
// of their posts) with the unread count in the header, and "Catch up": what happened while they
// were away. Both are computed by the member's own node (GET /v1/notifications, /v1/digest).
import { api, button, element, shortAddress } from "/app/common.js";

const DAY_MS = 24 * 3600 * 1000;
const LIMIT = 50;
const kept = { notices: "", digest: "", newest: 0, hooks: null };

function when(ms) {
  return new Date(ms).toLocaleString(); // the member's own time zone
}

function counted(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function showCount(count) {
  const badge = document.getElementById("notice-badge");
  badge.hidden = count === null; // a node whose key is not registered yet has nobody to notify
  badge.textContent = String(count || 0);
  badge.dataset.count = String(count || 0);
}

// The unread count alone, for every view.
export async function showBadge() {
  try {
    showCount((await api("GET", "/v1/notifications?unread=true&limit=1")).unread);
  } catch {
    showCount(null);
  }
}

// What a notice opens: the thread of the post it is about, or the room of an event; nothing
// for a proposal, or for a post the community hid.
function opener(notice) {
  const { openThread, openRoom } = kept.hooks;
  if (notice.kind === "event") return () => openRoom(notice.room);
  if (!notice.message || (notice.kind === "moderation" && notice.hidden)) return null;
  return () => openThread(notice.message).catch((error) => {
    document.getElementById("notices-note").textContent = error.message;
  });
}

function noticeItem(notice) {
  const item = element("li", notice.unread ? "notification unread" : "notification");
  item.dataset.key = notice.key;
  item.dataset.unread = String(notice.unread);
  if (notice.unread) {
    const dot = element("span", "dot", "●");
    dot.setAttribute("aria-hidden", "true");
    item.append(dot, element("span", "visually-hidden", "unread: "));
  }
  const open = opener(notice);
  const words = open
    ? button(notice.sentence, open, { "data-role": "open" }, "link")
    : element("span", "", notice.sentence);
  words.classList.add("sentence");
  const due = notice.due_ms ? ` · ${notice.kind === "event" ? "starts" : "closes"} ${when(notice.due_ms)}` : "";
  item.append(words, element("div", "meta", `${when(notice.at_ms)}${due}`));
  return item;
}

export async function showNotices() {
  let found;
  try {
    found = await api("GET", `/v1/notifications?limit=${LIMIT}`);
  } catch (error) {
    showCount(null);
    document.getElementById("notices-note").textContent = error.message;
    return;
  }
  showCount(found.unread);
  const signature = JSON.stringify(found);
  if (signature === kept.notices) return; // unchanged: nothing redrawn under the member's pointer
  kept.notices = signature;
  kept.newest = found.items.length ? found.items[0].at_ms : 0;
  document.getElementById("notices-read").disabled = found.unread === 0;
  const list = document.getElementById("notices");
  if (!found.items.length) list.replaceChildren(element("li", "meta", "No notifications yet."));
  else list.replaceChildren(...found.items.map(noticeItem));
}

async function markRead() {
  const note = document.getElementById("notices-note");
  note.textContent = "";
  try {
    // up to the newest one shown, so one arriving meanwhile stays unread
    const done = await api("POST", "/v1/notifications/read", kept.newest ? { until_ms: kept.newest } : {});
    note.textContent = `marked read up to ${when(done.read_until_ms)}`;
    await kept.hooks.after();
  } catch (error) {
    note.textContent = error.message;
  }
}

function part(title, lines) {
  const box = element("section", "digest-part");
  box.append(element("h3", "", title));
  if (!lines.length) box.append(element("p", "meta", "(nothing)"));
  else {
    const list = element("ul", "plain");
    list.append(...lines);
    box.append(list);
  }
  return box;
}

function line(words, meta) {
  const item = element("li");
  item.append(words, element("div", "meta", meta));
  return item;
}

function postLine(post, count) {
  const open = () => kept.hooks.openThread(post.id).catch((error) => {
    document.getElementById("digest-summary").textContent = error.message;
  });
  const words = button(`“${post.text || "a post without text"}”`, open, { "data-role": "open" }, "link");
  const by = post.author_name || shortAddress(post.author);
  const item = line(words, `${by} · ${when(post.timestamp_ms)} · ${count}`);
  item.dataset.id = post.id;
  return item;
}

function eventLine(event) {
  const place = event.place ? ` at ${event.place}` : "";
  const going = counted(event.going, "person", "people");
  return line(element("span", "", event.title), `${when(event.starts_ms)}${place} · ${going} going`);
}

function proposalLine(p) {
  const by = p.proposer_name || shortAddress(p.proposer);
  return line(element("span", "", `#${p.number} ${p.kind}: ${p.description}`),
    `by ${by} · closes ${when(p.closes_ms)} · ${counted(p.votes, "vote", "votes")}`);
}

function pollLine(poll) {
  const options = poll.options.map((o) => `${o.option} ${o.votes}`).join(", ");
  const state = poll.open ? `open until ${when(poll.closes_ms)}` : "closed";
  return line(element("span", "", poll.question), `${options} · ${state}`);
}

function sinceMs() {
  const days = Number(document.getElementById("digest-since").value);
  return Math.floor((Date.now() - days * DAY_MS) / 60000) * 60000; // to the minute: no redraw each second
}

export async function showDigest() {
  const summary = document.getElementById("digest-summary");
  let d;
  try {
    d = await api("GET", `/v1/digest?since_ms=${sinceMs()}`);
  } catch (error) {
    summary.textContent = error.message;
    kept.digest = ""; // drawn again in full once the node answers
    return;
  }
  const signature = JSON.stringify({ ...d, until_ms: 0 });
  if (signature === kept.digest) return;
  kept.digest = signature;
  const posts = counted(d.posts, "post", "posts");
  summary.textContent = `Since ${when(d.since_ms)}: ${posts} by ${counted(d.writers, "member", "members")}.`;
  const discussed = (p) => `${counted(p.replies, "reply", "replies")} from ${counted(p.people, "person", "people")}`;
  const reached = (p) => `${counted(p.members, "member", "members")} reacted or replied`;
  document.getElementById("digest").replaceChildren(
    part("Most discussed", d.threads.map((p) => postLine(p, discussed(p)))),
    part("Reached the most members", d.reach.map((p) => postLine(p, reached(p)))),
    part("Coming up", d.events.map(eventLine)),
    part("Proposals closing", d.proposals.map(proposalLine)),
    part("Polls", d.polls.map(pollLine)),
    part("Joined", d.joined.map((j) => line(element("span", "", j.member_name || j.member), when(j.at_ms)))),
  );
}

// hooks: openThread(id) and openRoom(id) from the page, after() to redraw once something changed.
export function wireNotices(hooks) {
  kept.hooks = hooks;
  document.getElementById("notices-read").addEventListener("click", markRead);
  document.getElementById("digest-since").addEventListener("change", () => {
    kept.digest = "";
    hooks.after();
  });
}
