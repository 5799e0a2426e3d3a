// Building pages from data without innerHTML: every value is text, never markup.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function fill(target, ...children) {
  target.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

// A problem+json answer as a clerk reads it: the detail, then each field at fault.
export function problemBox(error) {
  const fields = error.fields || [];
  return el(
    "div",
    { class: "alert alert-error", role: "alert" },
    el("strong", {}, error.message),
    fields.length ? el("ul", {}, fields.map((f) => el("li", {}, `${FIELD_LABELS[f.field] || f.field}：${f.message}`))) : null,
  );
}

export function notice(text, kind = "ok") {
  return el("div", { class: `alert alert-${kind}`, role: "status" }, text);
}

const FIELD_LABELS = {
  materials: "材料",
  "applicant.name": "申请人姓名",
  "applicant.id_number": "身份证号码",
  "applicant.phone": "联系电话",
  "applicant.address": "住址",
  recipient_name: "领取人姓名",
  recipient_id_number: "领取人身份证号码",
  result: "办理结果",
  reasons: "不予办理理由",
  legal_basis: "法律依据",
  query_code: "查询码",
  case_number: "办件编号",
};

export function dateTime(value) {
  if (!value) return "";
  const d = new Date(value);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function flagBadge(flag) {
  if (!flag) return null;
  const level = flag.level || flag;
  return el("span", { class: `badge badge-${level}` }, flag.level_label || (level === "red" ? "红牌" : "黄牌"));
}
