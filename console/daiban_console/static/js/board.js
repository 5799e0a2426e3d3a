// The hall's progress board (大厅进度屏): a large screen, no login, no personal data, refreshed
// every few seconds. It reads only public endpoints: the unit's service point and the public
// progress of the cases the hall follows. The public API has no list of a hall's cases (progress is
// by case number and query code, so nobody can walk the numbers), so the board follows the cases
// the hall adds: scanned or typed from the receipt, or given in the URL (?follow=NUMBER:CODE,...).
// It shows the item, the stage and the unit holding each case, never the applicant or the code.
import { allPages, api } from "./api.js";
import { $, el, fill } from "./dom.js";

const params = new URLSearchParams(location.search);
const org = params.get("org") || "";
const refreshSeconds = Math.max(3, Number(params.get("refresh")) || 10);
const STORE = `daiban.board.${org}`;
// A concluded case stays on the board this long, under 最近办结.
const RECENT_DAYS = 3;

const COLUMNS = [
  ["intake", "已受理", ["accepted", "forwarded", "received"]],
  ["review", "审查中", ["assigned", "in_review", "paused", "supplement_requested"]],
  ["back", "待领取", ["decided", "returned_down", "ready_for_handover"]],
  ["done", "最近办结", ["handed_over", "evaluated"]],
];

function followed() {
  return JSON.parse(localStorage.getItem(STORE) || "[]");
}
function keep(list) {
  localStorage.setItem(STORE, JSON.stringify(list));
}
function follow(number, code) {
  const list = followed().filter((c) => c.case_number !== number);
  list.push({ case_number: number, query_code: code });
  keep(list);
}
for (const entry of (params.get("follow") || "").split(",").filter(Boolean)) {
  const [number, code] = entry.split(":");
  if (number && code) follow(number.trim(), code.trim());
}

async function header() {
  if (!org) return chooseHall();
  try {
    const point = await api("routing", `/v1/public/service-points/${org}`, { token: null });
    $("#hall").textContent = point.name;
    $("#hall-info").textContent = `${point.address || ""}　办公时间：${point.opening_hours || ""}　电话：${point.phone || ""}`;
  } catch {
    $("#hall").textContent = "办件进度公示";
  }
}

async function refresh() {
  const list = followed();
  const answers = await Promise.all(
    list.map((c) =>
      api("intake", `/v1/public/progress/${encodeURIComponent(c.case_number)}`, { params: { query_code: c.query_code }, token: null })
        .then((p) => p)
        .catch((error) => (error.status === 404 ? "gone" : null)),
    ),
  );
  // A case whose code no longer answers (mistyped, or another node's) leaves the board.
  keep(list.filter((_, i) => answers[i] !== "gone"));
  const cutoff = Date.now() - RECENT_DAYS * 86400e3;
  const shown = answers.filter((p) => p && p !== "gone").filter((p) => {
    if (!["handed_over", "evaluated"].includes(p.status)) return true;
    const last = p.stages[p.stages.length - 1];
    return last && new Date(last.at).getTime() >= cutoff;
  });
  for (const [key, , statuses] of COLUMNS) {
    const cases = shown.filter((p) => statuses.includes(p.status));
    fill($(`#col-${key} .count`), String(cases.length));
    fill($(`#col-${key} ul`), cases.map(card));
  }
  $("#updated").textContent = `更新于 ${new Date().toLocaleTimeString("zh-CN", { hour12: false })}`;
}

function card(p) {
  return el(
    "li",
    { class: "board-card", "data-case": p.case_number, "data-status": p.status },
    el("div", { class: "item" }, p.item_name),
    el("div", { class: "where" }, `${p.status_label} · ${p.holding_org_name}`),
    el("div", { class: "meta" }, `${p.case_number}　${p.outcome_label ? p.outcome_label : `承诺 ${p.promised_date}`}`),
  );
}

$("#follow-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const number = $("#follow-number").value.trim();
  const code = $("#follow-code").value.trim();
  if (number && code) follow(number, code);
  event.target.reset();
  refresh();
});

// Without ?org= the screen asks once which hall it stands in (townships and the county centre).
async function chooseHall() {
  const points = await allPages("routing", "/v1/public/service-points", { tier: "township" }).catch(() => []);
  fill(
    $(".columns"),
    el(
      "section",
      { class: "chooser" },
      el("h2", {}, "请选择本屏所在的服务中心"),
      el("ul", {}, points.map((p) => el("li", {}, el("a", { href: `?org=${p.code}` }, p.name)))),
    ),
  );
}

function tick() {
  $("#clock").textContent = new Date().toLocaleString("zh-CN", { hour12: false });
}

header();
refresh();
tick();
setInterval(tick, 1000);
setInterval(refresh, refreshSeconds * 1000);
