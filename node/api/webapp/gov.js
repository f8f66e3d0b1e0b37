// Governance: the community's members, join requests, proposals with live tallies, voting and
// executing, and the moderation log. Transactions are signed by the member's keystore on their
// node: the passphrase goes with each request and the field is emptied after every action.
import { api, button, element, shortAddress } from "/app/common.js";

const gov = { shown: "" };

function when(seconds) {
  return new Date(seconds * 1000).toLocaleString(); // the member's own time zone
}

function passphrase() {
  const field = document.getElementById("gov-passphrase");
  const value = field.value;
  field.value = ""; // asked for each action, never kept
  if (!value) throw new Error("type your keystore passphrase first (it signs this one transaction)");
  return value;
}

async function act(problem, work) {
  problem.textContent = "sending the transaction…";
  try {
    await work();
    problem.textContent = "";
    gov.shown = "";
    await showGovernance();
  } catch (error) {
    problem.textContent = error.message;
  }
}

function voteForm(proposal, problem) {
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
    act(problem, () =>
      api("POST", `/v1/gov/proposals/${proposal.number}/vote`, { support, reason: reason.value, passphrase: passphrase() }),
    );
  });
  return form;
}

function proposalItem(proposal) {
  const item = element("li", "proposal");
  item.dataset.number = proposal.number;
  item.append(element("h4", "", `#${proposal.number} ${proposal.kind}: ${proposal.subject}`));
  if (proposal.description) item.append(element("p", "text", proposal.description));
  item.append(element("p", "meta", `by ${shortAddress(proposal.proposer)} · voting until ${when(proposal.vote_end)}`));
  const tally = element("p", "tally", proposal.tally);
  tally.dataset.for = proposal.for;
  item.append(tally, element("p", "state", `${proposal.state}: ${proposal.note}`));
  const problem = element("p", "error");
  problem.setAttribute("role", "alert");
  if (proposal.state === "active" && proposal.voted === false) item.append(voteForm(proposal, problem));
  if (proposal.voted) item.append(element("p", "meta", "you voted"));
  if (proposal.state === "succeeded") {
    item.append(
      button("Execute", () => act(problem, () =>
        api("POST", `/v1/gov/proposals/${proposal.number}/execute`, { passphrase: passphrase() })), {
        "data-role": "execute",
        "aria-label": `execute proposal ${proposal.number}`,
      }),
    );
  }
  item.append(problem);
  return item;
}

function proposeAdd(applicant, problem) {
  return button(`propose to add ${shortAddress(applicant)}`, () =>
    act(problem, () =>
      api("POST", "/v1/gov/proposals", { kind: "add_member", target: applicant, description: "", passphrase: passphrase() }),
    ),
  );
}

function logItem(entry) {
  const at = entry.at ? when(entry.at) : `block ${entry.block}`;
  const reason = entry.reason ? `: ${entry.reason}` : "";
  return element("li", "", `${at} · ${entry.action} post ${entry.post.slice(0, 12)}… by ${entry.decided_by}${reason}`);
}

export async function showGovernance() {
  const active = document.activeElement;
  if (active && active.closest("#gov form") && active.value) return; // the member is typing
  const [overview, { proposals }, { log }] = await Promise.all([
    api("GET", "/v1/gov"),
    api("GET", "/v1/gov/proposals"),
    api("GET", "/v1/gov/moderation"),
  ]);
  const signature = JSON.stringify([overview, proposals, log]);
  if (signature === gov.shown) return;
  gov.shown = signature;
  document.getElementById("gov-rules").textContent =
    `${overview.members.length} members · ${overview.rules.words} · charter ${overview.charter_hash.slice(0, 18)}…`;
  document.getElementById("gov-proposals").replaceChildren(...proposals.map(proposalItem));
  document.getElementById("gov-members").replaceChildren(
    ...overview.members.map((m) => element("li", "", `${m.address}${m.moderator ? " (moderator)" : ""}${m.address === overview.me ? " (you)" : ""}`)),
  );
  const problem = document.getElementById("gov-error");
  document.getElementById("gov-requests").replaceChildren(
    ...overview.join_requests.map((r) => {
      const item = element("li", "", `${r.applicant} asked to join, ${when(r.at)} `);
      item.append(proposeAdd(r.applicant, problem));
      return item;
    }),
  );
  document.getElementById("gov-log").replaceChildren(...log.map(logItem));
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
    const field = document.getElementById("hide-passphrase");
    const reason = document.getElementById("hide-reason");
    problem.textContent = "sending the transaction…";
    try {
      const made = await api("POST", "/v1/gov/proposals", {
        kind: "hide_post", target: box.dataset.post, description: reason.value, passphrase: field.value,
      });
      reason.value = "";
      box.close();
      document.getElementById("room-note").textContent = `proposal ${made.number} made: members vote on it under Governance`;
    } catch (error) {
      problem.textContent = error.message;
    } finally {
      field.value = "";
    }
  });
}

wireHideDialog();
