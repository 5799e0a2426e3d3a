// Talking to the four services as any third-party front end does: their URLs from /config.json,
// the user's bearer token, an Idempotency-Key on every POST that creates something, and
// problem+json answers turned into errors a page can show (Chinese `detail`, fields at fault).

let configPromise = null;

export function config() {
  configPromise ??= fetch("/config.json", { cache: "no-store" }).then((r) => r.json());
  return configPromise;
}

const TOKEN_KEY = "daiban.token";

export const session = {
  token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  signIn(token) {
    const claims = decodeClaims(token);
    if (!claims) throw new Error("令牌格式不正确");
    if (claims.exp && claims.exp * 1000 < Date.now()) throw new Error("令牌已过期，请重新获取");
    sessionStorage.setItem(TOKEN_KEY, token);
    return claims;
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
  // What the page shows and scopes itself by; the services check the token themselves.
  claims() {
    const token = this.token();
    return token ? decodeClaims(token) : null;
  },
};

function decodeClaims(token) {
  const part = String(token).trim().split(".")[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `请求失败（${status}）`);
    this.status = status;
    this.problem = problem || {};
  }
  get fields() {
    return this.problem.errors || [];
  }
}

// crypto.randomUUID needs a secure context; a county intranet may serve plain http.
export function newKey() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export async function serviceUrl(service, path) {
  const { services } = await config();
  return services[service] + path;
}

export async function api(service, path, { method = "GET", body, params, key, token = session.token() } = {}) {
  const url = new URL(await serviceUrl(service, path));
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers["Idempotency-Key"] = key;
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { detail: "网络不通，请稍后重试（重试不会重复办理）" });
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// Every page of a list, up to `max` entries (a dashboard does not need more to draw a chart).
export async function allPages(service, path, params = {}, max = 2000) {
  const items = [];
  let cursor = null;
  do {
    const page = await api(service, path, { params: { ...params, limit: 100, cursor } });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

const orgNames = new Map();

// A unit's name from the public directory of service points (no token), cached per page.
export function orgName(code) {
  if (!code) return Promise.resolve("");
  if (!orgNames.has(code)) {
    orgNames.set(
      code,
      api("routing", `/v1/public/service-points/${code}`, { token: null })
        .then((point) => point.org_name || point.name)
        .catch(() => code),
    );
  }
  return orgNames.get(code);
}
