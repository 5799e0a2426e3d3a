// A case as the desk and the dashboard show it: who, what, where it is, its hops and its timeline.
import { orgName } from "./api.js";
import { dateTime, el, flagBadge } from "./dom.js";

export function caseDetail(found, route) {
  const hopList = el("ol", { class: "hops" });
  for (const hop of route?.hops || []) {
    const li = el("li", {}, `${hop.direction === "up" ? "上报" : "下送"}：`, el("span", {}, hop.from_org), " → ", el("span", {}, hop.to_org), el("span", { class: "muted" }, ` ${dateTime(hop.received_at || hop.sent_at)}`));
    hopList.append(li);
    // Names, not codes: each unit's name from the public directory.
    const [from, to] = li.querySelectorAll("span");
    orgName(hop.from_org).then((n) => (from.textContent = n));
    orgName(hop.to_org).then((n) => (to.textContent = n));
  }
  return el(
    "div",
    { class: "card detail", "data-testid": "case-detail" },
    el("div", { class: "row" }, el("h3", {}, found?.item?.name || route?.item_name), flagBadge(found?.supervision_flag)),
    el(
      "dl",
      { class: "grid-dl" },
      el("dt", {}, "办件编号"), el("dd", {}, found?.case_number || route?.case_number),
      el("dt", {}, "办件类型"), el("dd", {}, found?.item ? `${found.item.kind_label}${found.item.promised_working_days ? `（承诺${found.item.promised_working_days}个工作日）` : ""}` : ""),
      el("dt", {}, "申请人"), el("dd", {}, found?.applicant?.name || ""),
      el("dt", {}, "受理单位"), el("dd", {}, found?.org_name || ""),
      el("dt", {}, "首问责任人"), el("dd", {}, found?.first_responder ? `${found.first_responder.name}（${found.first_responder.org_name}）` : ""),
      el("dt", {}, "当前所在"), el("dd", {}, found?.holding_org_name || ""),
      el("dt", {}, "状态"), el("dd", {}, found?.status_label || route?.status_label),
      el("dt", {}, "办结时限"), el("dd", {}, route?.due_date || found?.due_date || ""),
    ),
    found?.materials?.length ? el("p", { class: "small" }, "已交材料：", found.materials.map((m) => `${m.name}（${m.form_label}${m.copies}份）`).join("；")) : null,
    el("h4", {}, "流转路线"),
    hopList,
    el("h4", {}, "办理过程"),
    el(
      "ol",
      { class: "timeline" },
      (found?.stages || []).map((s) => el("li", {}, el("span", { class: "muted" }, dateTime(s.at)), ` ${s.org_name} · ${s.label}`, s.note ? `（${s.note}）` : "")),
    ),
  );
}
