// Signing in with the same bearer tokens the API takes. Development: pick one of the demo people
// `daiban run` lists in /config.json. Production: paste a token issued by the county's identity
// provider (or let a sign-in proxy put one in the URL fragment: #token=...). docs/console.md.
import { config, orgName, session } from "./api.js";
import { $, el, fill } from "./dom.js";
import { HOME, ROLE_LABELS } from "./shell.js";

function enter(token) {
  try {
    const claims = session.signIn(token);
    location.assign(HOME[claims.role] || "board.html");
  } catch (error) {
    fill($("#login-error"), el("div", { class: "alert alert-error" }, error.message));
  }
}

const fragment = new URLSearchParams(location.hash.slice(1)).get("token");
if (fragment) {
  history.replaceState(null, "", location.pathname);
  enter(fragment);
}

$("#paste-form").addEventListener("submit", (event) => {
  event.preventDefault();
  enter($("#token").value.trim());
});

const { identities } = await config();
if (identities.length) {
  $("#demo").hidden = false;
  fill(
    $("#identities"),
    identities.map((who) => {
      const unit = el("span", { class: "muted" }, who.org);
      orgName(who.org).then((name) => (unit.textContent = name));
      return el(
        "li",
        {},
        el(
          "button",
          { type: "button", "data-sub": who.sub, onclick: () => enter(who.token) },
          el("strong", {}, who.name),
          el("span", {}, ROLE_LABELS[who.role] || who.role),
          unit,
        ),
      );
    }),
  );
}
