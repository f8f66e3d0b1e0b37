// The member's profile: the name, bio, links and avatar every member's node shows instead of
// their address. Saving signs a new profile message; the latest one wins everywhere.
import { api } from "/app/common.js";

const kept = { avatar: null, loaded: false };

function field(id) {
  return document.getElementById(id);
}

export async function showProfile(me) {
  if (kept.loaded || !me) return;
  kept.loaded = true;
  try {
    const mine = await api("GET", `/v1/profiles/${me}`);
    field("profile-name").value = mine.name;
    field("profile-bio").value = mine.bio;
    field("profile-links").value = mine.links.join("\n");
    kept.avatar = mine.avatar ? mine.avatar.sha256 : null;
    field("profile-note").textContent = `shown as ${mine.shown_as}`;
  } catch {
    field("profile-note").textContent = "no profile yet: members see your address";
  }
}

function wireProfileForm() {
  const form = field("profile-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problem = field("profile-error");
    problem.textContent = "";
    try {
      const file = field("profile-avatar").files[0];
      const avatar = file ? (await api("POST", "/v1/blobs", undefined, file)).sha256 : kept.avatar;
      const links = field("profile-links").value.split("\n").map((l) => l.trim()).filter(Boolean);
      const body = { name: field("profile-name").value, bio: field("profile-bio").value, links, avatar };
      await api("POST", "/v1/profile", body);
      kept.avatar = avatar;
      field("profile-avatar").value = "";
      field("profile-note").textContent = `saved: members' nodes show you as ${body.name}`;
    } catch (error) {
      problem.textContent = error.message;
    }
  });
}

wireProfileForm();
