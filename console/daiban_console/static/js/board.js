// The hall's progress board (大厅进度屏): a large screen, no login, no personal data, refreshed
// every few seconds. It reads only public endpoints: the service point from routing's directory
// and intake's board of the point (every case accepted there and at the points below it, counted
// by status, numbers masked). The hall is chosen once (?org=, or the select at the foot).
import { allPages, api } from "./api.js";
import { $, el, fill } from "./dom.js";

const params = new URLSearchParams(location.search);
const org = params.get("org") || "";
const refreshSeconds = Math.max(3, Number(params.get("refresh")) || 10);

// The board's four columns, each the statuses it gathers (intake's names, in the order a case moves).
const COLUMNS = [
  ["intake", ["accepted", "forwarded", "received"]],
  ["review", ["assigned", "in_review", "paused", "supplement_requested"]],
  ["back", ["decided", "returned_down", "ready_for_handover"]],
];

async function header() {
  try {
    const point = await api("routing", `/v1/public/service-points/${org}`, { token: null });
    $("#hall").textContent = point.name;
    $("#hall-info").textContent = `${point.address || ""}　办公时间：${point.opening_hours || ""}　电话：${point.phone || ""}`;
  } catch {
    $("#hall").textContent = "办件进度公示";
  }
}

async function refresh() {
  let board;
  try {
    board = await api("intake", `/v1/public/boards/${org}`, { token: null });
  } catch (error) {
    $("#updated").textContent = error.status === 404 ? "本节点不办理该服务场所的办件" : "暂时无法更新，稍后自动重试";
    return;
  }
  const counts = Object.fromEntries(board.stages.map((s) => [s.status, s.count]));
  fill(
    $("#stages"),
    board.stages.map((s) => el("li", { "data-status": s.status, class: s.count ? "" : "none" }, `${s.status_label} `, el("b", {}, String(s.count)))),
  );
  for (const [key, statuses] of COLUMNS) {
    const total = statuses.reduce((sum, s) => sum + (counts[s] || 0), 0);
    fill($(`#col-${key} .count`), String(total));
    fill($(`#col-${key} ul`), board.open.filter((c) => statuses.includes(c.status)).map(card));
  }
  fill($("#col-done .count"), String(board.concluded_total));
  fill($("#col-done ul"), board.concluded.map(card));
  $("#updated").textContent = `更新于 ${new Date().toLocaleTimeString("zh-CN", { hour12: false })}`;
}

function card(c) {
  const moved = new Date(c.moved_at).toLocaleString("zh-CN", { hour12: false, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  return el(
    "li",
    { class: "board-card", "data-case": c.masked_case_number, "data-status": c.status },
    el("div", { class: "item" }, c.item_name),
    el("div", { class: "where" }, `${c.status_label} · ${c.holding_org_name || c.holding_org}`),
    el("div", { class: "meta" }, `${c.masked_case_number}　${c.accepting_org_name || ""}　${c.outcome_label || `承诺 ${c.promised_date}`}　${moved}`),
  );
}

// The halls a screen may stand in: the county centre and the townships' centres (a village point's
// board opens with its own ?org=).
async function halls() {
  const [county, townships] = await Promise.all(
    ["county", "township"].map((tier) => allPages("routing", "/v1/public/service-points", { tier }).catch(() => [])),
  );
  const points = [...county, ...townships];
  if (org && !points.some((p) => p.code === org)) points.unshift({ code: org, name: org });
  const select = $("#hall-select");
  fill(select, el("option", { value: "" }, "请选择"), ...points.map((p) => el("option", { value: p.code }, p.name)));
  select.value = org;
  select.addEventListener("change", () => {
    if (select.value) location.search = `?org=${select.value}&refresh=${refreshSeconds}`;
  });
}

function tick() {
  $("#clock").textContent = new Date().toLocaleString("zh-CN", { hour12: false });
}

halls();
tick();
setInterval(tick, 1000);
if (org) {
  header();
  refresh();
  setInterval(refresh, refreshSeconds * 1000);
} else {
  fill($(".columns"), el("section", { class: "chooser" }, el("h2", {}, "请在屏幕下方选择本屏所在的服务中心")));
}
