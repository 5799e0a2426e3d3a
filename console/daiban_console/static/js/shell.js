// The frame every signed-in screen shares: who is signed in (by name and unit), where else to go.
import { orgName, session } from "./api.js";
import { $, el, fill } from "./dom.js";

export const ROLE_LABELS = {
  agent: "代办员",
  clerk: "窗口人员",
  approver: "审批人员",
  supervisor: "电子监察",
  auditor: "审计人员",
  admin: "中心管理员",
};

// The screen each role starts on after signing in.
export const HOME = {
  agent: "agent.html",
  clerk: "desk.html",
  approver: "desk.html",
  supervisor: "dashboard.html",
  auditor: "dashboard.html",
  admin: "dashboard.html",
};

const SCREENS = [
  ["desk.html", "窗口工作台", ["clerk", "approver"]],
  ["agent.html", "代办员", ["agent"]],
  ["dashboard.html", "电子监察", ["supervisor", "auditor", "admin"]],
  ["board.html", "大厅进度屏", null],
];

// The signed-in person's claims, or a trip to the login page; `roles` are the ones this screen serves.
export async function signedIn(roles) {
  const claims = session.claims();
  if (!claims || (claims.exp && claims.exp * 1000 < Date.now())) {
    location.replace("index.html");
    return new Promise(() => {});
  }
  const unit = await orgName(claims.org);
  const header = $("header.top");
  fill(
    header,
    el("a", { class: "brand", href: HOME[claims.role] || "index.html" }, "代办 · 政务服务工作台"),
    el(
      "nav",
      {},
      SCREENS.filter(([, , who]) => !who || who.includes(claims.role)).map(([href, label]) =>
        el("a", { href, class: location.pathname.endsWith(href) ? "current" : null }, label),
      ),
    ),
    el(
      "div",
      { class: "who", "data-testid": "who" },
      el("span", {}, claims.name || claims.sub),
      el("span", { class: "muted" }, `${ROLE_LABELS[claims.role] || claims.role} · ${unit}`),
      el(
        "button",
        {
          type: "button",
          class: "link",
          onclick: () => {
            session.signOut();
            location.replace("index.html");
          },
        },
        "退出",
      ),
    ),
  );
  if (roles && !roles.includes(claims.role)) {
    fill($("main"), el("div", { class: "alert alert-error" }, `本页面供${roles.map((r) => ROLE_LABELS[r]).join("、")}使用。`));
    return new Promise(() => {});
  }
  return { ...claims, orgName: unit };
}
