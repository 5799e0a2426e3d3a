// 受理: pick an item (Chinese, pinyin or initials), tick the materials brought against the version
// in force, and either accept (a receipt to print) or get the one-time notice (一次性告知) to print.
import { api, ApiError, newKey, serviceUrl } from "./api.js";
import { $, el, fill, problemBox } from "./dom.js";

export function acceptanceForm(root, { org, channel }) {
  let item = null;
  // One key per application until the services answer: a retry on a flaky link is the same request.
  let key = newKey();
  const results = el("ul", { class: "picklist", "data-testid": "item-results" });
  const query = el("input", {
    type: "search",
    id: "item-q",
    placeholder: "事项名称、拼音或首字母，如 临时救助 / lsjz",
    autocomplete: "off",
  });
  const chosen = el("div", { class: "chosen" });
  const outcome = el("div", { class: "outcome", "aria-live": "polite" });

  let timer = null;
  query.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });

  async function search() {
    const q = query.value.trim();
    if (!q) return fill(results);
    try {
      const page = await api("catalogue", "/v1/items", { params: { q, acceptable_at: org, limit: 10 }, token: null });
      fill(
        results,
        page.items.length
          ? page.items.map((found) =>
              el(
                "li",
                {},
                el(
                  "button",
                  { type: "button", "data-item": found.item_code, onclick: () => choose(found) },
                  el("span", {}, found.name),
                  el("span", { class: "muted" }, `${found.kind_label} · ${found.handling_level_label}办理`),
                ),
              ),
            )
          : el("li", { class: "muted" }, "没有找到可在本单位受理的事项"),
      );
    } catch (error) {
      fill(results, problemBox(error));
    }
  }

  function choose(found) {
    item = found;
    key = newKey();
    fill(results);
    fill(outcome);
    query.value = found.name;
    const days = found.promised_working_days ? `承诺${found.promised_working_days}个工作日办结` : "即办";
    fill(
      chosen,
      el("h3", {}, found.name),
      el("p", { class: "muted" }, `${found.kind_label} · ${days} · 法定${found.statutory_working_days}个工作日 · ${found.fee.free ? "不收费" : `收费${(found.fee.amount_fen / 100).toFixed(2)}元`}`),
      el("h4", {}, "材料清单（勾选申请人已提交的材料）"),
      el("ul", { class: "materials" }, found.materials.map(materialRow)),
      el("h4", {}, "申请人"),
      el(
        "div",
        { class: "grid2" },
        field("申请人姓名", "applicant-name", "text"),
        field("身份证号码", "applicant-id", "text"),
        field("联系电话", "applicant-phone", "tel"),
        field("住址", "applicant-address", "text"),
      ),
      el("button", { type: "button", class: "primary", id: "accept", onclick: submit }, "受理"),
    );
  }

  function materialRow(m) {
    const what = `${m.name}（${m.form_label}${m.copies}份）`;
    if (m.source === "government") {
      return el("li", { class: "muted" }, `${what} — ${m.source_label}，无需申请人提交`);
    }
    return el(
      "li",
      {},
      el(
        "label",
        {},
        el("input", { type: "checkbox", name: "material", value: m.code, "data-form": m.form, "data-copies": m.copies }),
        ` ${what}`,
        m.required ? null : el("span", { class: "muted" }, ` 按情形提交：${m.condition || "非必需"}`),
      ),
    );
  }

  async function submit() {
    const button = $("#accept", root);
    button.disabled = true;
    const materials = [...chosen.querySelectorAll("input[name=material]:checked")].map((box) => ({
      code: box.value,
      form: box.dataset.form,
      copies: Number(box.dataset.copies),
    }));
    const body = {
      item_code: item.item_code,
      org,
      channel,
      applicant: {
        kind: "person",
        name: $("#applicant-name", root).value.trim(),
        id_number: $("#applicant-id", root).value.trim(),
        phone: $("#applicant-phone", root).value.trim(),
        address: $("#applicant-address", root).value.trim(),
      },
      materials,
    };
    try {
      const accepted = await api("intake", "/v1/applications", { method: "POST", body, key });
      key = newKey();
      fill(outcome, await receiptCard(accepted));
      root.dispatchEvent(new CustomEvent("accepted", { detail: accepted }));
    } catch (error) {
      if (error instanceof ApiError && error.status !== 0) key = newKey();
      fill(outcome, error.problem?.notice ? await noticeCard(error) : problemBox(error));
    } finally {
      button.disabled = false;
    }
  }

  fill(
    root,
    el("label", { for: "item-q", class: "label" }, "办理事项"),
    query,
    results,
    chosen,
    outcome,
  );
}

function field(label, id, type) {
  return el("label", { class: "field" }, el("span", {}, label), el("input", { id, type, autocomplete: "off" }));
}

async function receiptCard(accepted) {
  return el(
    "div",
    { class: "card receipt", "data-testid": "receipt" },
    el("h3", {}, "已受理"),
    el("dl", {},
      el("dt", {}, "办件编号"), el("dd", { "data-testid": "case-number" }, accepted.case_number),
      el("dt", {}, "查询码"), el("dd", { "data-testid": "query-code" }, accepted.query_code),
      el("dt", {}, "承诺办结日期"), el("dd", {}, accepted.promised_date),
      el("dt", {}, "首问责任人"), el("dd", {}, `${accepted.first_responder.name}（${accepted.first_responder.org_name}）`),
    ),
    el("a", { class: "button", href: await serviceUrl("intake", accepted.receipt_url), target: "_blank", rel: "noopener" }, "打印受理回执"),
  );
}

async function noticeCard(error) {
  const n = error.problem.notice;
  return el(
    "div",
    { class: "card notice", "data-testid": "one-time-notice" },
    el("h3", {}, "材料不全：一次性告知"),
    el("p", {}, error.message),
    el("ul", {}, (n.issues || []).map((i) => el("li", {}, `${i.material_name}（${i.required_form_label}${i.required_copies}份）：${i.problem_label}`))),
    (n.conditional || []).length ? el("p", { class: "muted" }, "按情形提交：", n.conditional.map((c) => c.note || c.condition).join("；")) : null,
    el("a", { class: "button", href: await serviceUrl("intake", error.problem.notice_url), target: "_blank", rel: "noopener" }, "打印一次性告知书"),
  );
}
