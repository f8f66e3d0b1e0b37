// The form that proposes any decision the contract knows: about a member, a post, the voting
// rules, the media policy, the guest policy or the charter. Only the fields of the chosen kind are shown; the
// node checks them and names what is missing or out of range.
import { transact } from "/app/signing.js";

const NUMBERS = [
  "quorum_pct", "threshold_pct", "voting_period_s", "max_attachments", "max_attachment_kib",
  "guest_inviters", "max_guest_pass_s",
];

function value(id) {
  return document.getElementById(id).value;
}

function request(kind) {
  const body = { kind, description: value("propose-description") };
  if (["add_member", "remove_member", "grant_moderator", "revoke_moderator"].includes(kind)) body.target = value("propose-account").trim();
  if (kind === "hide_post" || kind === "unhide_post") body.target = value("propose-post").trim();
  if (kind === "set_charter") body.text = value("propose-charter");
  for (const name of NUMBERS) {
    const field = document.getElementById(`propose-${name}`);
    if (!field.closest(".for-kind").hidden && field.value !== "") body[name] = Number(field.value);
  }
  return body;
}

function showFields(kind) {
  for (const part of document.querySelectorAll("#propose-form .for-kind")) {
    part.hidden = !part.dataset.kinds.split(" ").includes(kind);
  }
}

// ``current`` answers the community's rules and media policy, to start from them.
export function wireProposeForm(current, done) {
  const form = document.getElementById("propose-form");
  const kind = document.getElementById("propose-kind");
  const problem = document.getElementById("propose-error");
  kind.addEventListener("change", () => {
    showFields(kind.value);
    const { rules, media_policy: media } = current();
    const start = { quorum_pct: rules?.quorum_pct, threshold_pct: rules?.threshold_pct, voting_period_s: rules?.voting_period_s,
      max_attachments: media?.max_attachments, max_attachment_kib: media?.max_attachment_kib };
    for (const name of NUMBERS) {
      const field = document.getElementById(`propose-${name}`);
      if (field.value === "" && start[name] !== undefined) field.value = String(start[name]);
    }
  });
  showFields(kind.value);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const say = (text) => { problem.textContent = text; };
    try {
      const made = await transact("/v1/gov/proposals", request(kind.value), document.getElementById("gov-passphrase"), say);
      say("");
      form.reset();
      showFields(kind.value);
      document.getElementById("gov-note").textContent = `proposal ${made.number} made: members can vote on it below`;
      await done();
    } catch (error) {
      say(error.message);
    }
  });
}
