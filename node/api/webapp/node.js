// The member's own node: peers, the chain it follows, what it accepted and refused and why,
// what sync did; the member's data to take away (export) and to erase (forget-me).
import { api, element } from "/app/common.js";

const shown = { status: "" };

function rows(pairs) {
  const list = element("dl", "facts");
  for (const [term, value] of pairs) {
    list.append(element("dt", "", term), element("dd", "", String(value)));
  }
  return list;
}

function byReason(counts) {
  const entries = Object.entries(counts || {});
  return entries.length ? entries.map(([reason, n]) => `${reason} ${n}`).join(", ") : "none";
}

export async function showNode() {
  const status = await api("GET", "/v1/status");
  const signature = JSON.stringify(status);
  if (signature === shown.status) return;
  shown.status = signature;
  const chain = status.chain;
  const sync = status.sync;
  const last = Object.values(sync.last || {});
  document.getElementById("node-facts").replaceChildren(
    element("h3", "", "Peers"),
    rows([
      ["connected peers", status.peers],
      ["in the gossip mesh", status.mesh_peers],
      ["members' nodes known", status.discovery.address_book],
      ["reachable from outside", status.connectivity ? status.connectivity.reachability || "unknown" : "not measured"],
    ]),
    element("h3", "", "Chain"),
    rows([
      ["following", chain.healthy ? "yes" : `NO: ${chain.last_error || "unreachable"}`],
      ["endpoint", chain.rpc_url],
      ["chain head", chain.head],
      ["applied up to block", `${chain.cursor} (${chain.lag_blocks} behind)`],
      ["events applied", chain.events_applied],
    ]),
    element("h3", "", "Messages"),
    rows([
      ["stored posts", status.store.post],
      ["accepted", status.messages.accepted],
      ["published by you", status.messages.published],
      ["duplicates (normal in gossip)", status.messages.duplicates],
      ["refused, by reason", byReason(status.messages.refused)],
      ["hidden by the community", status.messages.hidden_by_chain],
    ]),
    element("h3", "", "Sync"),
    rows([
      ["sessions", sync.sessions],
      ["refused, by reason", byReason(sync.refused)],
      ["running now", (sync.open || []).length],
      ["last session with", last.length ? `${last.length} peers` : "nobody yet"],
    ]),
  );
}

function wireForgetMe() {
  const box = document.getElementById("forget-dialog");
  document.getElementById("forget-open").addEventListener("click", () => {
    document.getElementById("forget-error").textContent = "";
    box.showModal();
  });
  document.getElementById("forget-cancel").addEventListener("click", () => box.close());
  document.getElementById("forget-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = document.getElementById("forget-passphrase");
    const problem = document.getElementById("forget-error");
    problem.textContent = "erasing, revoking this node's key, leaving…";
    try {
      const done = await api("POST", "/v1/forget-me", {
        passphrase: field.value,
        confirm: document.getElementById("forget-confirm").checked ? "erase everything I wrote and leave" : "",
      });
      box.close();
      document.getElementById("forget-result").textContent =
        `erased (${done.erase.slice(0, 12)}…); ${done.done.join("; ") || "nothing left to do on the chain"}`;
    } catch (error) {
      problem.textContent = error.message;
    } finally {
      field.value = "";
    }
  });
}

wireForgetMe();
