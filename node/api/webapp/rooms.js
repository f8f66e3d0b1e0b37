// A room's own parts: joining, leaving and inviting; its events with RSVP and its polls with
// their tallies (opinion polls, not binding: only the contract's votes decide anything).
import { api, button, element, shortAddress } from "/app/common.js";

const shown = { extras: "" };

function when(ms) {
  return new Date(ms).toLocaleString(); // the member's own time zone
}

function field(label, input) {
  const wrap = element("label", "field", label);
  wrap.append(input);
  return wrap;
}

function input(type, name, attributes = {}) {
  const node = element("input");
  node.type = type;
  node.name = name;
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

async function attempt(problem, work, after) {
  problem.textContent = "";
  try {
    await work();
    shown.extras = "";
    await after();
  } catch (error) {
    problem.textContent = error.message;
  }
}

// The room's header tools: leave or join, and invite where the room is encrypted.
export function roomTools(room, after) {
  const box = element("div", "room-tools");
  // outside the tools, which are redrawn when the room changes: what it says stays
  const problem = document.getElementById("room-note");
  if (!room.id) return box;
  if (room.topic) box.append(element("p", "meta", `${room.topic} · ${room.visibility}`));
  else box.append(element("p", "meta", room.visibility));
  if (!room.readable) {
    box.append(element("p", "cannot-read", "Your node relays this room's messages but cannot read them: "
      + "it is encrypted and you hold no key. A participant can invite you."));
  }
  const path = `/v1/rooms/${room.id}`;
  box.append(room.following
    ? button("Leave this room", () => attempt(problem, () => api("POST", `${path}/leave`), after), { "data-role": "leave" })
    : button("Join this room", () => attempt(problem, () => api("POST", `${path}/join`), after), { "data-role": "join" }));
  if (room.visibility !== "open" && room.readable) {
    const form = element("form", "inline-form");
    const member = input("text", "member", { placeholder: "0x… (a member's address)", required: "" });
    form.append(field("Invite a member", member), element("button", "", "Invite"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      attempt(problem, () => api("POST", `${path}/invite`, { member: member.value.trim() }), async () => {
        member.value = "";
        problem.textContent = "invited: their node receives the room's key";
        await after();
      });
    });
    box.append(form);
  }
  return box;
}

// The form that makes a room (in the sidebar).
export function newRoomForm(after) {
  const details = element("details", "new-room");
  details.append(element("summary", "", "New room"));
  const form = element("form");
  const name = input("text", "name", { required: "", maxlength: "64" });
  const topic = input("text", "topic", { maxlength: "280" });
  const visibility = element("select");
  visibility.name = "visibility";
  for (const [value, label] of [["open", "open: anyone may read"], ["members", "members only (encrypted)"], ["private", "private: by invitation"]]) {
    const option = element("option", "", label);
    option.value = value;
    visibility.append(option);
  }
  const problem = element("p", "error");
  problem.setAttribute("role", "alert");
  form.append(field("Name", name), field("Topic", topic), field("Who reads it", visibility), element("button", "", "Create"), problem);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(problem, async () => {
      const made = await api("POST", "/v1/rooms", { name: name.value, topic: topic.value, visibility: visibility.value });
      name.value = "";
      topic.value = "";
      details.open = false;
      after(made.room);
    }, async () => {});
  });
  details.append(form);
  return details;
}

function eventItem(happening, after) {
  const item = element("li", "event");
  item.dataset.id = happening.id;
  item.append(element("h4", "", happening.title));
  const place = happening.place ? ` · ${happening.place}` : "";
  item.append(element("p", "meta", `${when(happening.starts_ms)} – ${when(happening.ends_ms)}${place}`));
  const counts = happening.counts;
  item.append(element("p", "counts", `yes ${counts.yes || 0} · maybe ${counts.maybe || 0} · no ${counts.no || 0}`));
  const problem = element("p", "error");
  problem.setAttribute("role", "alert");
  const answers = element("div", "actions");
  for (const answer of ["yes", "maybe", "no"]) {
    answers.append(button(answer, () => attempt(problem, () =>
      api("POST", `/v1/events/${happening.id}/rsvp`, { answer }), after), { "data-role": `rsvp-${answer}`, "aria-label": `answer ${answer} to ${happening.title}` }));
  }
  item.append(answers, problem);
  return item;
}

function pollItem(poll, after) {
  const item = element("li", "poll");
  item.dataset.id = poll.id;
  item.append(element("h4", "", poll.question));
  const closed = Date.now() >= poll.closes_ms;
  item.append(element("p", "meta", `an opinion poll, not binding · ${closed ? "closed" : "open until"} ${when(poll.closes_ms)} · by ${poll.author_name || shortAddress(poll.author)}`));
  const problem = element("p", "error");
  problem.setAttribute("role", "alert");
  const options = element("ol", "options");
  poll.options.forEach((option, index) => {
    const row = element("li");
    row.append(element("span", "tally", `${poll.tally[index] || 0}`), " ");
    if (closed) row.append(option);
    else row.append(button(option, () => attempt(problem, () =>
      api("POST", `/v1/polls/${poll.id}/answer`, { option: index }), after), { "data-role": "answer", "aria-label": `answer ${option}` }));
    options.append(row);
  });
  item.append(options, problem);
  return item;
}

function eventForm(room, after) {
  const details = element("details");
  details.append(element("summary", "", "New event"));
  const form = element("form");
  const title = input("text", "title", { required: "", maxlength: "120" });
  const starts = input("datetime-local", "starts", { required: "" });
  const ends = input("datetime-local", "ends", { required: "" });
  const place = input("text", "place", { maxlength: "200" });
  const problem = element("p", "error");
  problem.setAttribute("role", "alert");
  form.append(field("What", title), field("Starts", starts), field("Ends", ends), field("Where", place), element("button", "", "Announce"), problem);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { title: title.value, starts_ms: new Date(starts.value).getTime(), ends_ms: new Date(ends.value).getTime(), place: place.value, room };
    attempt(problem, () => api("POST", "/v1/events", body), async () => {
      form.reset();
      details.open = false;
      await after();
    });
  });
  details.append(form);
  return details;
}

function pollForm(room, after) {
  const details = element("details");
  details.append(element("summary", "", "New poll"));
  const form = element("form");
  const question = input("text", "question", { required: "", maxlength: "280" });
  const options = element("textarea");
  options.rows = 3;
  options.required = true;
  const hours = input("number", "hours", { min: "1", max: "720", value: "24", required: "" });
  const problem = element("p", "error");
  problem.setAttribute("role", "alert");
  form.append(field("Question", question), field("Options, one per line", options), field("Open for (hours)", hours), element("button", "", "Ask"), problem);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const choices = options.value.split("\n").map((line) => line.trim()).filter(Boolean);
    const body = { question: question.value, options: choices, closes_ms: Date.now() + Number(hours.value) * 3600000, room };
    attempt(problem, () => api("POST", "/v1/polls", body), async () => {
      form.reset();
      details.open = false;
      await after();
    });
  });
  details.append(form);
  return details;
}

// The room's events and polls, with the forms that add them.
export async function showRoomExtras(room, after) {
  const active = document.activeElement;
  if (active && active.closest("#room-extras form") && active.value) return; // the member is typing
  const query = new URLSearchParams({ room });
  const [{ events }, { polls }] = await Promise.all([api("GET", `/v1/events?${query}`), api("GET", `/v1/polls?${query}`)]);
  const signature = JSON.stringify([room, events, polls]);
  if (signature === shown.extras) return;
  shown.extras = signature;
  const box = document.getElementById("room-extras");
  const parts = [];
  if (events.length) {
    parts.push(element("h3", "", "Events"));
    const list = element("ol", "plain");
    list.append(...events.map((e) => eventItem(e, after)));
    parts.push(list);
  }
  if (polls.length) {
    parts.push(element("h3", "", "Polls"));
    const list = element("ol", "plain");
    list.append(...polls.map((p) => pollItem(p, after)));
    parts.push(list);
  }
  parts.push(eventForm(room, after), pollForm(room, after));
  box.replaceChildren(...parts);
}
