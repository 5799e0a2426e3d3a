// The window desk (1366x768): the window's task queue with its A and B posts, a case's detail with
// its route and timeline, and the actions of the person holding a task: claim, approve, refuse,
// ask for a supplement (a new one-time notice), pause for a special procedure; and acceptance.
import { acceptanceForm } from "./accept.js";
import { api } from "./api.js";
import { $, el, fill, flagBadge, notice, problemBox } from "./dom.js";
import { signedIn } from "./shell.js";
import { caseDetail } from "./detail.js";

const me = await signedIn(["clerk", "approver"]);
$("#unit").textContent = `${me.orgName} · 窗口工作台`;
acceptanceForm($("#accept-panel"), { org: me.org, channel: "window" });

const OPEN = ["queued", "assigned", "in_review", "paused"];
const POSTS = { a: "A岗", b: "B岗" };
let selected = null;

for (const tab of document.querySelectorAll("[data-tab]")) {
  tab.addEventListener("click", () => {
    for (const t of document.querySelectorAll("[data-tab]")) t.classList.toggle("current", t === tab);
    for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== tab.dataset.tab;
  });
}
$("#show-all").addEventListener("change", () => loadQueue());
$("#reload").addEventListener("click", () => loadQueue());

async function loadQueue() {
  const body = $("#queue tbody");
  try {
    const page = await api("routing", "/v1/tasks", { params: { org: me.org, limit: 100 } });
    const tasks = $("#show-all").checked ? page.items : page.items.filter((t) => OPEN.includes(t.status));
    const cases = await Promise.all(tasks.map((t) => caseOf(t.case_number)));
    fill(
      body,
      tasks.length
        ? tasks.map((task, i) => taskRow(task, cases[i]))
        : el("tr", {}, el("td", { colspan: 7, class: "muted" }, "本窗口暂无待办任务")),
    );
  } catch (error) {
    fill(body, el("tr", {}, el("td", { colspan: 7 }, problemBox(error))));
  }
}

const caseCache = new Map();
function caseOf(number) {
  if (!caseCache.has(number)) caseCache.set(number, api("intake", `/v1/cases/${number}`).catch(() => null));
  return caseCache.get(number);
}

function taskRow(task, found) {
  const mine = task.staff_id === me.sub;
  return el(
    "tr",
    {
      "data-task": task.id,
      "data-case": task.case_number,
      class: selected === task.id ? "selected" : null,
      onclick: () => select(task),
    },
    el("td", {}, el("div", {}, found?.item?.name || task.department_name), el("div", { class: "muted small" }, task.case_number)),
    el("td", {}, task.department_name),
    el("td", {}, `窗口${task.window} ${POSTS[task.post] || ""}`, mine ? el("span", { class: "badge" }, "本人") : null),
    el("td", {}, el("span", { class: `status status-${task.status}` }, task.status_label)),
    el("td", {}, task.due_date, " ", flagBadge(found?.supervision_flag)),
    el("td", {}, task.green_channel ? el("span", { class: "badge badge-green" }, "绿色通道") : ""),
    el("td", {}, found ? found.holding_org_name : ""),
  );
}

async function select(task, message = null) {
  selected = task.id;
  for (const row of document.querySelectorAll("#queue tr[data-task]")) row.classList.toggle("selected", row.dataset.task === task.id);
  const panel = $("#detail");
  fill(panel, el("p", { class: "muted" }, "加载中……"));
  try {
    caseCache.delete(task.case_number);
    const [found, route] = await Promise.all([caseOf(task.case_number), api("routing", `/v1/cases/${task.case_number}/route`)]);
    fill(panel, message, actions(task, found), caseDetail(found, route));
  } catch (error) {
    fill(panel, problemBox(error));
  }
}

function actions(task, found) {
  const out = el("div", { "aria-live": "polite" });
  if (!OPEN.includes(task.status)) {
    return el("div", { class: "card" }, el("strong", {}, `${task.status_label}：${task.outcome === "approved" ? "准予办理" : task.outcome || ""}`), el("p", {}, task.result || (task.reasons || []).join("；")));
  }
  const result = el("textarea", { id: "decision-text", rows: 2, placeholder: "准予：办理结果（如证书编号）；不予：理由" });
  const basis = el("input", { id: "legal-basis", type: "text", placeholder: "不予办理的法律依据" });
  const run = (label, path, body) => async (event) => {
    event.target.disabled = true;
    try {
      const done = await api("routing", `/v1/tasks/${task.id}/${path}`, { method: "POST", body });
      await loadQueue();
      // The task as it is now, with what just happened on top.
      await select(done.id ? done : task, notice(`${label}：${done.status_label || "已办理"}`));
    } catch (error) {
      fill(out, problemBox(error));
    } finally {
      event.target.disabled = false;
    }
  };
  const materials = found?.materials || [];
  // 补正: the materials to ask for again, all on one notice (一次性告知).
  const picks = el(
    "div",
    { class: "picks small" },
    "需补正的材料：",
    materials.map((m) => el("label", {}, el("input", { type: "checkbox", value: m.code }), ` ${m.name} `)),
  );
  return el(
    "div",
    { class: "card actions" },
    el("h3", {}, found?.item?.name || task.case_number),
    // Deciding an unclaimed task claims it too; claiming first tells the public it is in review.
    ["queued", "assigned"].includes(task.status)
      ? el("div", { class: "buttons" }, el("button", { type: "button", id: "claim", onclick: run("领取", "claim") }, "领取"))
      : null,
    el("label", { class: "field" }, el("span", {}, "结果 / 理由"), result),
    el("label", { class: "field" }, el("span", {}, "法律依据"), basis),
    picks,
    el(
      "div",
      { class: "buttons" },
      el("button", { type: "button", class: "primary", id: "approve", onclick: (e) => run("准予办理", "decide", { decision: "approve", result: result.value.trim() || "准予办理" })(e) }, "准予办理"),
      el("button", { type: "button", class: "danger", id: "refuse", onclick: (e) => run("不予办理", "decide", { decision: "refuse", reasons: [result.value.trim()].filter(Boolean), legal_basis: [basis.value.trim()].filter(Boolean) })(e) }, "不予办理"),
      el(
        "button",
        {
          type: "button",
          id: "supplement",
          onclick: (e) =>
            run("补正告知", "decide", {
              decision: "supplement",
              issues: materials
                .filter((m) => picks.querySelector(`input[value="${m.code}"]`).checked)
                .map((m) => ({ material_code: m.code, material_name: m.name, problem: "invalid", required_form: m.form, required_copies: m.copies, note: result.value.trim() })),
            })(e),
        },
        "补正告知",
      ),
      el("button", { type: "button", id: "pause", onclick: (e) => run("特别程序", "pause", { procedure: "site_survey", expected_working_days: 3, reason: result.value.trim() || "需现场核实" })(e) }, "现场核查（暂停计时）"),
    ),
    out,
  );
}

loadQueue();
