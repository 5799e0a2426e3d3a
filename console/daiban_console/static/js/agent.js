// The village agent's phone: accept on a villager's behalf, my cases and where each is now,
// results ready to hand over (with the ID check), and the villager's evaluation (好差评).
import { acceptanceForm } from "./accept.js";
import { api, newKey } from "./api.js";
import { $, el, fill, flagBadge, notice, problemBox } from "./dom.js";
import { signedIn } from "./shell.js";

const me = await signedIn(["agent"]);
$("#unit").textContent = `${me.orgName}代办点`;

acceptanceForm($("#accept-panel"), { org: me.org, channel: "agent" });
$("#accept-panel").addEventListener("accepted", () => refresh());

for (const tab of document.querySelectorAll("[data-tab]")) {
  tab.addEventListener("click", () => show(tab.dataset.tab));
}

function show(name) {
  for (const tab of document.querySelectorAll("[data-tab]")) tab.classList.toggle("current", tab.dataset.tab === name);
  for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== name;
  if (name !== "accept") refresh();
}

async function refresh() {
  try {
    const page = await api("intake", "/v1/cases", { params: { org: me.org, limit: 50 } });
    fill($("#cases"), page.items.length ? page.items.map(caseCard) : el("p", { class: "muted" }, "暂无办件"));
    const ready = page.items.filter((c) => c.status === "ready_for_handover");
    // A card being filled in stays as it is: a refresh must not wipe an ID number being typed.
    const list = $("#handover-list");
    const shown = new Map([...list.querySelectorAll("[data-handover]")].map((card) => [card.dataset.handover, card]));
    fill(list, ready.length ? ready.map((c) => shown.get(c.case_number) || handoverCard(c)) : el("p", { class: "muted" }, "暂无待送达的结果"));
    $("#ready-count").textContent = ready.length ? `（${ready.length}）` : "";
  } catch (error) {
    fill($("#cases"), problemBox(error));
  }
}

function caseCard(c) {
  return el(
    "article",
    { class: "card case", "data-case": c.case_number },
    el("div", { class: "row" }, el("strong", {}, c.item_name), flagBadge(c.supervision_flag)),
    el("div", { class: "muted" }, `${c.case_number} · 申请人 ${c.applicant_name}`),
    el(
      "div",
      { class: "row" },
      el("span", { class: `status status-${c.status}`, "data-testid": "status" }, c.status_label),
      el("span", {}, `现在：${c.holding_org_name || c.holding_org}`),
      el("span", { class: "muted" }, `承诺 ${c.promised_date}`),
    ),
  );
}

function handoverCard(c) {
  const out = el("div", { "aria-live": "polite" });
  const name = el("input", { type: "text", name: "recipient_name", value: c.applicant_name, autocomplete: "off" });
  const id = el("input", { type: "text", name: "recipient_id_number", placeholder: "核验领取人身份证号码", autocomplete: "off" });
  const card = el(
    "article",
    { class: "card", "data-handover": c.case_number },
    el("strong", {}, c.item_name),
    el("div", { class: "muted" }, c.case_number),
    el("label", { class: "field" }, el("span", {}, "领取人"), name),
    el("label", { class: "field" }, el("span", {}, "身份证号码"), id),
    el("button", { type: "button", class: "primary", onclick: submit }, "核验身份并送达"),
    out,
  );
  async function submit(event) {
    event.target.disabled = true;
    try {
      await api("intake", `/v1/cases/${c.case_number}/handover`, {
        method: "POST",
        body: { method: "in_person", recipient_name: name.value.trim(), recipient_id_number: id.value.trim() },
        key: newKey(),
      });
      fill(card, notice(`已送达：${c.item_name}（${c.case_number}）`), evaluationForm(c.case_number));
    } catch (error) {
      event.target.disabled = false;
      fill(out, problemBox(error));
    }
  }
  return card;
}

const LEVELS = [
  ["very_satisfied", "非常满意"],
  ["satisfied", "满意"],
  ["basically_satisfied", "基本满意"],
  ["dissatisfied", "不满意"],
  ["very_dissatisfied", "非常不满意"],
];

// The villager rates on the agent's phone with the query code of the receipt: the public endpoint.
function evaluationForm(caseNumber) {
  const code = el("input", { type: "text", name: "query_code", placeholder: "回执上的查询码", autocomplete: "off" });
  const level = el("select", { name: "level" }, LEVELS.map(([v, label]) => el("option", { value: v }, label)));
  const out = el("div", { "aria-live": "polite" });
  const form = el(
    "div",
    { class: "card evaluation" },
    el("h4", {}, "请群众评价（好差评）"),
    el("label", { class: "field" }, el("span", {}, "查询码"), code),
    el("label", { class: "field" }, el("span", {}, "评价"), level),
    el("button", { type: "button", onclick: submit }, "提交评价"),
    out,
  );
  async function submit() {
    try {
      const done = await api("intake", "/v1/public/evaluations", {
        method: "POST",
        token: null,
        body: { case_number: caseNumber, query_code: code.value.trim(), level: level.value },
        key: newKey(),
      });
      fill(form, notice(`评价已提交：${done.level_label}`));
    } catch (error) {
      fill(out, problemBox(error));
    }
  }
  return form;
}

show("accept");
refresh();
