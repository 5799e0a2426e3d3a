// 电子监察: red and yellow flags by township, on-time and early rates, satisfaction, the overdue
// trend by week, and a drill-down from a township to its flagged cases and from a case to its route.
/* global echarts */
import { allPages, api, orgName } from "./api.js";
import { $, el, fill, flagBadge, problemBox } from "./dom.js";
import { signedIn } from "./shell.js";
import { caseDetail } from "./detail.js";

const me = await signedIn(["supervisor", "auditor", "admin"]);
$("#unit").textContent = `${me.orgName} · 电子监察`;

const WEEKS = 8;
const day = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
const percent = (r) => (r === null || r === undefined ? "—" : `${(r * 100).toFixed(1)}%`);
$("#as-of").value = day(new Date());
$("#as-of").addEventListener("change", () => load());

const charts = {
  flags: echarts.init($("#chart-flags")),
  trend: echarts.init($("#chart-trend")),
  satisfaction: echarts.init($("#chart-satisfaction")),
};
addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));

let flags = [];
let units = [];

async function load() {
  const asOf = $("#as-of").value;
  try {
    const [points, found] = await Promise.all([
      allPages("routing", "/v1/public/service-points", { org: me.org, tier: "township" }),
      allPages("routing", "/v1/supervision/flags", { org: me.org, as_of: asOf }),
    ]);
    units = points.map((p) => ({ code: p.code, name: p.org_name }));
    flags = found;
    drawFlags();
    showFlags(null);
  } catch (error) {
    fill($("#flag-table"), problemBox(error));
  }
  loadStats(asOf).catch((error) => fill($("#kpis"), problemBox(error)));
}

// A flag belongs to the township whose subtree holds the case; the county's own cases stand apart.
function townshipOf(org) {
  const code = `${org.slice(0, 9)}000`;
  return units.some((u) => u.code === code) ? code : me.org;
}

function unitName(code) {
  return units.find((u) => u.code === code)?.name || (code === me.org ? `${me.orgName}（县级部门）` : code);
}

function drawFlags() {
  const codes = [...units.map((u) => u.code), me.org];
  const count = (level) => codes.map((code) => flags.filter((f) => f.level === level && townshipOf(f.org) === code).length);
  const red = flags.filter((f) => f.level === "red").length;
  const yellow = flags.filter((f) => f.level === "yellow").length;
  $("#kpi-red").textContent = red;
  $("#kpi-yellow").textContent = yellow;
  charts.flags.setOption(
    {
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { data: ["红牌", "黄牌"], top: 0 },
      grid: { left: 110, right: 20, top: 30, bottom: 20 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: codes.map(unitName), inverse: true },
      series: [
        { name: "红牌", type: "bar", stack: "flags", data: count("red"), itemStyle: { color: "#d93026" } },
        { name: "黄牌", type: "bar", stack: "flags", data: count("yellow"), itemStyle: { color: "#f2b700" } },
      ],
    },
    true,
  );
  charts.flags.off("click");
  charts.flags.on("click", (params) => showFlags(codes[params.dataIndex]));
}

function showFlags(township) {
  const shown = township ? flags.filter((f) => townshipOf(f.org) === township) : flags;
  $("#flag-title").textContent = township ? `${unitName(township)}：${shown.length}件` : `全部亮牌办件：${shown.length}件`;
  $("#flag-all").hidden = !township;
  fill(
    $("#flag-table"),
    shown.length
      ? el(
          "table",
          {},
          el("thead", {}, el("tr", {}, ["监察", "事项", "办件编号", "所在单位", "办结时限", "原因"].map((h) => el("th", {}, h)))),
          el(
            "tbody",
            {},
            shown.map((f) =>
              el(
                "tr",
                { "data-case": f.case_number, onclick: () => drill(f.case_number) },
                el("td", {}, flagBadge(f)),
                el("td", {}, f.item_name),
                el("td", { class: "small" }, f.case_number),
                el("td", { "data-org": f.org }, unitName(f.org) === f.org ? "" : unitName(f.org)),
                el("td", {}, f.due_date),
                el("td", {}, f.reason),
              ),
            ),
          ),
        )
      : el("p", { class: "muted" }, "没有亮牌的办件"),
  );
  // A village or a county department: its own name from the public directory.
  for (const cell of document.querySelectorAll("#flag-table td[data-org]")) {
    if (!cell.textContent) orgName(cell.dataset.org).then((n) => (cell.textContent = n));
  }
}
$("#flag-all").addEventListener("click", () => showFlags(null));

async function drill(number) {
  const panel = $("#drill");
  panel.hidden = false;
  fill(panel, el("p", { class: "muted" }, "加载中……"));
  try {
    const [found, route] = await Promise.all([
      api("intake", `/v1/cases/${number}`).catch(() => null),
      api("routing", `/v1/cases/${number}/route`),
    ]);
    fill(panel, el("button", { type: "button", class: "link", onclick: () => (panel.hidden = true) }, "关闭"), caseDetail(found, route));
  } catch (error) {
    fill(panel, problemBox(error));
  }
}

async function loadStats(asOf) {
  const end = new Date(`${asOf}T00:00:00`);
  const monday = new Date(end);
  monday.setDate(end.getDate() - ((end.getDay() + 6) % 7));
  const weeks = [];
  for (let i = WEEKS - 1; i >= 0; i--) {
    const from = new Date(monday);
    from.setDate(monday.getDate() - 7 * i);
    const to = new Date(from);
    to.setDate(from.getDate() + 6);
    weeks.push([day(from), day(to > end ? end : to)]);
  }
  const [whole, ...weekly] = await Promise.all([
    api("audit", "/v1/stats", { params: { org: me.org, from: weeks[0][0], to: asOf } }),
    ...weeks.map(([from, to]) => api("audit", "/v1/stats", { params: { org: me.org, from, to } })),
  ]);
  const t = whole.totals;
  $("#kpi-received").textContent = t.received;
  $("#kpi-concluded").textContent = t.concluded;
  $("#kpi-on-time").textContent = percent(t.on_time_rate);
  $("#kpi-early").textContent = percent(t.early_rate);
  $("#kpi-satisfaction").textContent = percent(t.satisfaction_rate);
  $("#kpi-period").textContent = `${weeks[0][0]} 至 ${asOf}`;
  charts.trend.setOption(
    {
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { data: ["超期办结", "按时办结率"], top: 0 },
      grid: { left: 40, right: 50, top: 30, bottom: 30 },
      xAxis: { type: "category", data: weeks.map(([from]) => `${from.slice(5)}周`) },
      yAxis: [
        { type: "value", minInterval: 1, name: "件" },
        { type: "value", min: 0, max: 100, name: "%" },
      ],
      series: [
        { name: "超期办结", type: "bar", data: weekly.map((w) => w.totals.concluded_overdue), itemStyle: { color: "#d93026" } },
        { name: "按时办结率", type: "line", yAxisIndex: 1, data: weekly.map((w) => (w.totals.on_time_rate === null ? null : +(w.totals.on_time_rate * 100).toFixed(1))), itemStyle: { color: "#1f6feb" } },
      ],
    },
    true,
  );
  const labels = { very_satisfied: "非常满意", satisfied: "满意", basically_satisfied: "基本满意", dissatisfied: "不满意", very_dissatisfied: "非常不满意" };
  charts.satisfaction.setOption(
    {
      animation: false,
      tooltip: { trigger: "item" },
      color: ["#1a7f37", "#4ac26b", "#9be9a8", "#f2b700", "#d93026"],
      series: [{ type: "pie", radius: ["35%", "65%"], data: Object.entries(labels).map(([k, name]) => ({ name, value: t.evaluations[k] })) }],
    },
    true,
  );
}

load();
