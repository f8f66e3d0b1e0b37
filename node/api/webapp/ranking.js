// The feed's order (newest, bridging, personal) with each ranked post's reasons, and the opinion
// map: groups of opinion with their sizes and what each agrees on, and what all of them share.
// Everything comes from this node's own API; the map never says which member is in which group.
import { api, element } from "/app/common.js";

// The mark of a post the diversity floor brought in from outside the member's usual circle.
export const OUTSIDE = "◇";

export const SORTS = {
  new: "Posts, newest first",
  bridging: "Posts appreciated across the community's divides first",
  personal: "Posts for you first, with some from outside your usual circle",
};

// One page of the room's posts in the chosen order: the newest feed, or the ranking with why.
export async function orderedPosts(sort, room, supporters) {
  if (sort === "new") return (await api("GET", `/v1/feed?${new URLSearchParams({ room, limit: "50" })}`)).items;
  const query = new URLSearchParams({ sort, room, limit: "50" });
  if (sort === "bridging") query.set("min_supporters", String(supporters));
  return (await api("GET", `/v1/ranking?${query}`)).items;
}

// What the page says under the feed's order: how it works, or why nothing is ranked yet. In the
// general room a ranked order takes the posts of every open room (as `kiez feed --sort` does).
export function sortNote(sort, count, supporters, room) {
  if (sort === "new") return "";
  const where = room ? "" : " The posts of every open room are ranked together.";
  return ranking(sort, count, supporters) + where;
}

function ranking(sort, count, supporters) {
  if (sort === "bridging") {
    const need = `a post needs ${supporters} distinct supporters to be ranked`;
    return count ? `Ranked by how much members who usually disagree both like a post; ${need}.`
      : `Nothing is ranked yet: ${need}.`;
  }
  if (sort === "personal") {
    return "Ranked by what you react to, reply to and follow; at least 20 % of each page comes from outside "
      + `your usual topics and people (marked ${OUTSIDE}).`;
  }
  return "";
}

// A ranked post's reasons, one line ("" for the newest feed, whose posts carry none).
export function whyLine(post) {
  if (!post.why) return null;
  const line = element("p", post.outside ? "why outside" : "why");
  line.dataset.role = "why";
  const mark = post.outside ? `${OUTSIDE} ` : "";
  const supporters = post.supporters ? ` · ${post.supporters} supporters` : "";
  line.textContent = `${mark}why: ${post.why.join("; ")}${supporters}`;
  return line;
}

function statementList(statements) {
  const list = element("ul", "plain");
  list.append(...statements.map((s) => {
    const share = s.agree === undefined ? "" : `${Math.round(100 * s.agree)} % · `;
    return element("li", "statement", `${share}${s.text}`);
  }));
  return list;
}

// The opinion map of the whole community (every room's polls and posts).
export async function showOpinions() {
  const found = await api("GET", "/v1/opinions");
  const summary = document.getElementById("opinions-summary");
  const box = document.getElementById("opinions");
  if (!found.groups.length) {
    summary.textContent = `No groups of opinion to show: ${found.members} members have answered or reacted enough, `
      + "and a map needs at least two groups of three.";
    box.replaceChildren();
    return;
  }
  const hidden = found.hidden_groups ? ` (${found.hidden_groups} smaller groups are not shown)` : "";
  summary.textContent = `${found.groups.length} groups of opinion among ${found.members} members${hidden}.`;
  const parts = found.groups.map((group, index) => {
    const part = element("section", "opinion-group");
    part.append(element("h3", "", `Group ${index + 1}: ${group.size} members`));
    part.append(group.agrees.length ? statementList(group.agrees) : element("p", "meta", "no statement most agree on"));
    return part;
  });
  const shared = element("section", "opinion-consensus");
  shared.append(element("h3", "", "Every group agrees on"));
  shared.append(found.consensus.length ? statementList(found.consensus) : element("p", "meta", "no statement yet"));
  box.replaceChildren(...parts, shared);
}
