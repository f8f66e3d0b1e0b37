// Governance: the community's rules and charter, members, join requests, proposals with live
// tallies, voting and executing, and the moderation log. Transactions are signed by the member's
// keystore on their node or by the browser's wallet (signing.js).
import { api, button, element, shortAddress } from "/app/common.js";
import { wireProposeForm } from "/app/propose.js";
import { transact, wireSigner } from "/app/signing.js";

const gov = { shown: "", overview: {} };

function when(seconds) {
  return new Date(seconds * 1000).toLocaleString(); // the member's own time zone
}

function passField() {
  return document.getElementById("gov-passphrase");
}

// The outcome is said in #gov-error, which outlives the redraws of the lists the stream causes.
async function act(what, path, body) {
  const problem = document.getElementById("gov-error");
  try {
    await transact(path, body, passField(), (text) => { problem.textContent = `${what}: ${text}`; });
    problem.textContent = "";
    gov.shown = "";
    await showGovernance();
  } catch (error) {
    problem.textContent = `${what}: ${error.message}`;
  }
}

function voteForm(proposal) {
  const form = element("form", "vote-form");
  form.setAttribute("aria-label", `your vote on proposal ${proposal.number}`);
  const choices = element("fieldset");
  choices.append(element("legend", "", "Your vote"));
  for (const choice of ["for", "against", "abstain"]) {
    const label = element("label", "choice");
    const input = element("input");
    input.type = "radio";
    input.name = `support-${proposal.number}`;
    input.value = choice;
    input.required = true;
    label.append(input, ` ${choice}`);
    choices.append(label);
  }
  const reason = element("input");
  reason.type = "text";
  reason.placeholder = "reason (optional)";
  reason.setAttribute("aria-label", `reason for your vote on proposal ${proposal.number}`);
  const submit = element("button", "", "Vote");
  submit.type = "submit";
  form.append(choices, reason, submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const support = new FormData(form).get(`support-${proposal.number}`);
    act(`your vote on proposal ${proposal.number}`, `/v1/gov/proposals/${proposal.number}/vote`, { support, reason: reason.value });
  });
  return form;
}

// "Dana (0x90F7…b906)" in full: a name beside the whole address where the list is of people.
function named(name, address) {
  return name && !name.startsWith("0x") ? `${name} · ${address}` : address;
}

function proposalItem(proposal) {
  const item = element("li", "proposal");
  item.dataset.number = proposal.number;
  item.append(element("h4", "", `#${proposal.number} ${proposal.kind}: ${proposal.subject}`));
  if (proposal.description) item.append(element("p", "text", proposal.description));
  item.append(element("p", "meta", `by ${proposal.proposer_name || shortAddress(proposal.proposer)} · voting until ${when(proposal.vote_end)}`));
  const tally = element("p", "tally", proposal.tally);
  tally.dataset.for = proposal.for;
  item.append(tally, element("p", "state", `${proposal.state}: ${proposal.note}`));
  if (proposal.state === "active" && proposal.voted === false) item.append(voteForm(proposal));
  if (proposal.voted) item.append(element("p", "meta", "you voted"));
  if (proposal.state === "succeeded") {
    item.append(
      button("Execute", () => act(`executing proposal ${proposal.number}`, `/v1/gov/proposals/${proposal.number}/execute`, {}), {
        "data-role": "execute",
        "aria-label": `execute proposal ${proposal.number}`,
      }),
    );
  }
  return item;
}

function proposeAdd(applicant) {
  return button(`propose to add ${shortAddress(applicant)}`, () =>
    act(`proposing to add ${shortAddress(applicant)}`, "/v1/gov/proposals", { kind: "add_member", target: applicant, description: "" }),
  );
}

function logItem(entry) {
  const at = entry.at ? when(entry.at) : `block ${entry.block}`;
  const reason = entry.reason ? `: ${entry.reason}` : "";
  const what = entry.member ? `${entry.member} removed` : `${entry.action} post ${entry.post.slice(0, 12)}…`;
  return element("li", "", `${at} · ${what} by ${entry.decided_by}${reason}`);
}

export async function showGovernance() {
  const active = document.activeElement;
  if (active && active.closest("#gov form") && active.value) return; // the member is typing
  const [overview, { proposals }, { log }, charter] = await Promise.all([
    api("GET", "/v1/gov"),
    api("GET", "/v1/gov/proposals"),
    api("GET", "/v1/gov/moderation"),
    api("GET", "/v1/gov/charter"),
  ]);
  gov.overview = overview;
  showProposals(proposals); // in place: a button under the member's pointer stays put
  const signature = JSON.stringify([{ ...overview, chain_time: 0 }, log, charter]);
  if (signature === gov.shown) return;
  gov.shown = signature;
  showCharter(charter);
  document.getElementById("gov-rules").textContent =
    `${overview.members.length} members · ${overview.rules.words} · charter ${overview.charter_hash.slice(0, 18)}…`;
  document.getElementById("gov-members").replaceChildren(
    ...overview.members.map((m) => element("li", "", `${named(m.address_name, m.address)}${m.moderator ? " (moderator)" : ""}${m.address === overview.me ? " (you)" : ""}`)),
  );
  document.getElementById("gov-requests").replaceChildren(
    ...overview.join_requests.map((r) => {
      const item = element("li", "", `${r.applicant} asked to join, ${when(r.at)} `);
      item.append(proposeAdd(r.applicant));
      return item;
    }),
  );
  document.getElementById("gov-log").replaceChildren(...log.map(logItem));
}

// Redraws only the proposals that changed; the time left, which changes with every block, is
// written into the existing item.
function showProposals(proposals) {
  const list = document.getElementById("gov-proposals");
  const shown = new Map([...list.children].map((item) => [item.dataset.number, item]));
  const items = proposals.map((proposal) => {
    const stable = JSON.stringify({ ...proposal, note: "" });
    const item = shown.get(String(proposal.number));
    if (item && item.dataset.shown === stable) {
      item.querySelector(".state").textContent = `${proposal.state}: ${proposal.note}`;
      return item;
    }
    const fresh = proposalItem(proposal);
    fresh.dataset.shown = stable;
    return fresh;
  });
  if (items.some((item, at) => list.children[at] !== item) || list.children.length !== items.length) {
    list.replaceChildren(...items);
  }
}

function showCharter(charter) {
  const check = document.getElementById("charter-check");
  const text = document.getElementById("charter-text");
  const mark = charter.matches === true ? "✓ " : charter.matches === false ? "✗ " : "";
  check.textContent = `${mark}${charter.note}. On the chain: ${charter.hash}`;
  check.dataset.matches = String(charter.matches);
  text.hidden = charter.text === null;
  text.textContent = charter.text || "";
}

// On a post: propose that the community hides it (a vote decides; nothing happens before).
export function hideButton(post) {
  return button("propose to hide", () => {
    const box = document.getElementById("hide-dialog");
    box.dataset.post = post.id;
    document.getElementById("hide-post").textContent = post.text.slice(0, 120);
    document.getElementById("hide-error").textContent = "";
    box.showModal();
  }, { "data-role": "propose-hide", "aria-label": "propose to the community to hide this post" });
}

function wireHideDialog() {
  const box = document.getElementById("hide-dialog");
  const form = document.getElementById("hide-form");
  document.getElementById("hide-cancel").addEventListener("click", () => box.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problem = document.getElementById("hide-error");
    const reason = document.getElementById("hide-reason");
    try {
      const made = await transact("/v1/gov/proposals", {
        kind: "hide_post", target: box.dataset.post, description: reason.value,
      }, document.getElementById("hide-passphrase"), (text) => { problem.textContent = text; });
      reason.value = "";
      box.close();
      document.getElementById("room-note").textContent = `proposal ${made.number} made: members vote on it under Governance`;
    } catch (error) {
      problem.textContent = error.message;
    }
  });
}

wireHideDialog();
wireSigner();
wireProposeForm(() => gov.overview, async () => { gov.shown = ""; await showGovernance(); });
