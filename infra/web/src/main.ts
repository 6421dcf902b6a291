// The citizen's «Контактные данные» page: the phone number's status and
// history, binding and changing it with an SMS code, removing it by SMS or
// e-mail, step-up sign-in when the API asks for it, the settings, partners'
// access to the number and its log, the personal-data report, and support
// requests. Served by the local runner it also shows a side panel that
// mints dev tokens, reads the number as a partner would and lists the
// outbox.
import {
  api,
  type AccessLogEntry,
  type AccessRequest,
  type CodeRequest,
  type CodeSent,
  type Failure,
  type PhoneStatus,
  type Result,
  type Session,
  type Settings,
  type SettingsPatch,
  type Ticket,
} from "./client.js";
import { isKey, t, type Key, type Lang } from "./i18n.js";

interface Claims {
  sub: string;
  email?: string;
  amr?: string[];
  auth_time?: number;
}

interface OutboxMessage {
  channel: string;
  to: string;
  body: string;
  code?: string;
  sent_at: string;
}

const el = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error("no #" + id);
  return e as T;
};

const meta = (name: string): string => document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? "";

const state = {
  lang: (sessionStorage.getItem("phonebind.lang") === "en" ? "en" : "ru") as Lang,
  token: sessionStorage.getItem("phonebind.token") ?? "",
  local: false,
  status: null as PhoneStatus | null,
  pending: null as { sent: CodeSent; request: CodeRequest } | null,
  retryUntil: 0,
  changeAfter: "",
  stepUpRetry: null as (() => Promise<void>) | null,
  lastPhone: sessionStorage.getItem("phonebind.phone") ?? "",
  tickets: [] as Ticket[],
  settings: null as Settings | null,
  // Partners' pending requests and approvals in force (null until loaded) and the access log's
  // pages so far, with the cursor of the next one ("" on the last).
  requests: null as AccessRequest[] | null,
  log: [] as AccessLogEntry[],
  logCursor: "",
};

// The API is on the page's own origin unless the host names another
// (<meta name="phonebind-api" content="https://api.example">).
const session: Session = {
  base: meta("phonebind-api"),
  token: () => state.token,
  lang: () => state.lang,
};

const tr = (key: Key, vars?: Record<string, string | number>) => t(state.lang, key, vars);

function formatDate(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(state.lang === "ru" ? "ru-RU" : "en-GB", { dateStyle: "medium", timeStyle: "short" }).format(d);
}

function claimsOf(token: string): Claims | null {
  try {
    const part = token.split(".")[1] ?? "";
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as Claims;
  } catch {
    return null;
  }
}

// ---- errors and notices ----

function clearError(): void {
  el("error").hidden = true;
  el("stepup").hidden = true;
  el("error-text").textContent = "";
  state.stepUpRetry = null;
}

function notice(text: string): void {
  el("notice").textContent = text;
}

// showError shows the API's own words (`detail`) and moves focus there.
function showError(f: Failure, retry?: () => Promise<void>): void {
  const p = f.problem;
  const text = f.message;
  if (p?.code === "change_too_soon" && p.change_allowed_after) {
    state.changeAfter = p.change_allowed_after;
    renderStatus();
  }
  if (p?.attempts_left !== undefined && state.pending) {
    state.pending.sent.attempts_left = p.attempts_left;
    renderCode();
  }
  if (f.retryAfter) {
    state.retryUntil = Date.now() + f.retryAfter * 1000;
  }
  el("error-text").textContent = text;
  const stepUp = p?.code === "insufficient_authentication";
  state.stepUpRetry = stepUp && retry ? retry : null;
  el("stepup").hidden = !(stepUp && (state.local || meta("phonebind-signin") !== ""));
  el("error").hidden = false;
  tick();
  el("error").focus();
}

// call runs one API call: the error shown (with a retry after a step-up)
// or the data handed to onOK. An action (fresh) clears the previous error
// and notice first; a load leaves them.
async function call<T>(run: () => Promise<Result<T>>, onOK: (data: T) => void | Promise<void>, fresh = true): Promise<void> {
  const attempt = async (): Promise<void> => {
    if (fresh) {
      clearError();
      notice("");
    }
    const r = await run();
    if (!r.ok) {
      showError(r.failure, attempt);
      return;
    }
    await onOK(r.data);
  };
  await attempt();
}

// ---- rendering ----

function applyLang(): void {
  document.documentElement.lang = state.lang;
  for (const e of document.querySelectorAll<HTMLElement>("[data-i18n]")) {
    const key = e.dataset.i18n ?? "";
    if (isKey(key)) e.textContent = tr(key);
  }
  el("lang-switch").lang = state.lang === "ru" ? "en" : "ru";
  document.title = tr("title");
  renderStatus();
  renderCode();
  renderTickets();
  renderAccess();
  renderToken();
}

function renderStatus(): void {
  const s = state.status;
  el("signed-out").hidden = state.token !== "";
  el("app").hidden = state.token === "";
  if (!s) return;
  el("status-text").textContent = s.status_text;
  el("status-phone").textContent = s.phone ?? "";
  el("status-verified").textContent = formatDate(s.verified_at);
  const req = s.request;
  el("status-request").textContent = req ? `${req.state_text}${req.destination ? " · " + req.destination : ""}` : "";
  for (const [cls, on] of [["if-phone", !!s.phone], ["if-verified", !!s.verified_at], ["if-request", !!req]] as const) {
    for (const e of document.querySelectorAll<HTMLElement>("." + cls)) e.hidden = !on;
  }
  const after = s.change_allowed_after ?? state.changeAfter;
  el("change-after").textContent = s.status === "verified" && after && Date.parse(after) > Date.now() ? tr("changeAfter", { date: formatDate(after) }) : "";
  el("bind-h").textContent = tr(s.phone ? "changeHeading" : "bindHeading");
  const body = el("history").querySelector("tbody") as HTMLTableSectionElement;
  body.replaceChildren(
    ...s.history.map((h) => {
      const row = document.createElement("tr");
      const evKey = "ev_" + h.event;
      // A partner's approval or decline names the partner.
      const event = (isKey(evKey) ? tr(evKey) : h.event) + (h.client_id ? " · " + h.client_id : "");
      for (const text of [formatDate(h.at), event, h.phone ?? "", h.channel ?? ""]) {
        const td = document.createElement("td");
        td.textContent = text;
        row.append(td);
      }
      return row;
    }),
  );
  el("history").hidden = s.history.length === 0;
  el("history-empty").hidden = s.history.length > 0;
  const pending = state.pending !== null;
  const held = req?.state === "scheduled";
  el("bind-section").hidden = pending || held;
  el("unbind-section").hidden = pending || !s.phone;
  el("hold-section").hidden = !held;
  el("hold-text").textContent = held ? tr("holdText", { date: formatDate(req?.effective_at) }) : "";
}

// cancelUnbind stops a scheduled removal: the number stays.
async function cancelUnbind(): Promise<void> {
  await call(() => api.cancelUnbind(session), async (s) => {
    state.status = s;
    renderStatus();
    notice(tr("unbindCancelled"));
    el("status-h").setAttribute("tabindex", "-1");
    el("status-h").focus();
    await refreshOutbox();
  });
}

function renderCode(): void {
  const p = state.pending;
  el("code-section").hidden = !p;
  if (!p) return;
  el("code-sent").textContent = tr(p.sent.channel === "email" ? "codeSentEmail" : "codeSentSms", { dest: p.sent.destination });
  el("attempts").textContent = tr("attemptsLeft", { n: p.sent.attempts_left });
  tick();
}

// tick updates the countdowns: the resend button (resend_after, or a 429's
// Retry-After) and the wait after a refusal.
function tick(): void {
  const now = Date.now();
  const wait = Math.max(0, Math.ceil((state.retryUntil - now) / 1000));
  el("retry-wait").textContent = wait > 0 ? tr("retryIn", { n: wait }) : "";
  for (const id of ["send-code", "unbind-sms", "unbind-email"]) el<HTMLButtonElement>(id).disabled = wait > 0;
  const p = state.pending;
  if (p) {
    const resend = Math.max(wait, Math.ceil((Date.parse(p.sent.resend_after) - now) / 1000));
    const b = el<HTMLButtonElement>("resend");
    b.disabled = resend > 0;
    b.textContent = resend > 0 ? tr("resendIn", { n: resend }) : tr("resend");
  }
}

// renderSettings shows the settings as the API last gave them.
function renderSettings(): void {
  const s = state.settings;
  el("settings-section").hidden = !s;
  if (!s) return;
  el<HTMLInputElement>("set-sms").checked = s.notifications.sms;
  el<HTMLInputElement>("set-email").checked = s.notifications.email;
  el<HTMLInputElement>("set-push").checked = s.notifications.push;
  el<HTMLInputElement>("set-autofill").checked = s.autofill;
  el<HTMLSelectElement>("set-third-party").value = s.third_party;
  el<HTMLSelectElement>("set-format").value = s.display_format;
}

// settingsPatch is what the form changed against the settings shown: a
// merge patch of those fields only, so that a change made meanwhile on
// another device to another setting is kept.
function settingsPatch(): SettingsPatch {
  const s = state.settings;
  const patch: SettingsPatch = {};
  if (!s) return patch;
  const notifications: NonNullable<SettingsPatch["notifications"]> = {};
  for (const [key, id] of [["sms", "set-sms"], ["email", "set-email"], ["push", "set-push"]] as const) {
    const v = el<HTMLInputElement>(id).checked;
    if (v !== s.notifications[key]) notifications[key] = v;
  }
  if (Object.keys(notifications).length > 0) patch.notifications = notifications;
  const autofill = el<HTMLInputElement>("set-autofill").checked;
  if (autofill !== s.autofill) patch.autofill = autofill;
  const third = el<HTMLSelectElement>("set-third-party").value as Settings["third_party"];
  if (third !== s.third_party) patch.third_party = third;
  const format = el<HTMLSelectElement>("set-format").value as Settings["display_format"];
  if (format !== s.display_format) patch.display_format = format;
  return patch;
}

async function saveSettings(): Promise<void> {
  const patch = settingsPatch();
  await call(() => api.changeSettings(session, patch), async (s) => {
    state.settings = s;
    renderSettings();
    renderAccess();
    notice(tr("settingsSaved"));
    // The display format changes how the status shows the number.
    await loadStatusQuietly();
  });
}

async function loadSettings(): Promise<void> {
  if (!state.token) return;
  await call(() => api.settings(session), (s) => {
    state.settings = s;
    renderSettings();
    renderAccess();
  }, false);
}

function renderTickets(): void {
  const list = el("tickets");
  list.replaceChildren(
    ...state.tickets.map((tk) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = `${tk.ticket_id} · ${tk.status_text} · ${formatDate(tk.created_at)}`;
      b.addEventListener("click", () => void openTicket(tk.ticket_id));
      const text = document.createElement("div");
      text.textContent = tk.message.length > 120 ? tk.message.slice(0, 120) + "…" : tk.message;
      li.append(b, text);
      return li;
    }),
  );
  el("tickets-empty").hidden = state.tickets.length > 0;
}

function renderToken(): void {
  const c = claimsOf(state.token);
  el("dev-token").textContent = c
    ? tr("devToken", { sub: c.sub, amr: (c.amr ?? []).join(",") || "—", when: formatDate(c.auth_time ? new Date(c.auth_time * 1000).toISOString() : undefined) })
    : tr("devNoToken");
}

// ---- loading ----

async function loadStatus(): Promise<void> {
  if (!state.token) return renderStatus();
  await call(() => api.status(session), (s) => {
    state.status = s;
    renderStatus();
  }, false);
}

async function loadTickets(): Promise<void> {
  if (!state.token) return;
  await call(() => api.listTickets(session), (list) => {
    state.tickets = list.tickets;
    renderTickets();
  }, false);
}

async function openTicket(id: string): Promise<void> {
  await call(() => api.getTicket(session, id), (tk) => {
    el("ticket-view-h").textContent = tk.ticket_id;
    el("ticket-view-status").textContent = tk.status_text;
    el("ticket-view-message").textContent = tk.message;
    el("ticket-view-answer").textContent = tk.answer ?? tr("noAnswer");
    el("ticket-view").hidden = false;
    el("ticket-view").focus();
  });
}

// ---- actions ----

async function requestCode(request: CodeRequest): Promise<void> {
  await call(() => api.requestCode(session, request), async (sent) => {
    state.pending = { sent, request };
    renderStatus();
    renderCode();
    el("code").focus();
    await Promise.all([loadStatusQuietly(), refreshOutbox()]);
  });
}

// loadStatusQuietly refreshes the status without touching the error shown.
async function loadStatusQuietly(): Promise<void> {
  const r = await api.status(session);
  if (r.ok) {
    state.status = r.data;
    renderStatus();
  }
}

async function confirmCode(): Promise<void> {
  const p = state.pending;
  if (!p) return;
  const body = { verification_id: p.sent.verification_id, code: el<HTMLInputElement>("code").value };
  const unbind = p.sent.purpose === "unbind";
  await call(() => (unbind ? api.unbind(session, body) : api.confirmCode(session, body)), async (s) => {
    state.pending = null;
    state.status = s;
    el<HTMLInputElement>("code").value = "";
    renderCode();
    renderStatus();
    // An e-mailed unbind code schedules the removal (202): it waits its hold.
    const held = s.request?.state === "scheduled";
    notice(held ? tr("unbindScheduled", { date: formatDate(s.request?.effective_at) }) : tr(unbind ? "unbound" : "bound"));
    el("status-h").setAttribute("tabindex", "-1");
    el("status-h").focus();
    await refreshOutbox();
  });
}

async function sendTicket(): Promise<void> {
  const contact = el<HTMLInputElement>("ticket-contact").value.trim();
  const body = {
    category: el<HTMLSelectElement>("ticket-category").value as Ticket["category"],
    message: el<HTMLTextAreaElement>("ticket-message").value,
    ...(contact ? { contact } : {}),
  };
  await call(() => api.createTicket(session, body), async (created) => {
    el<HTMLTextAreaElement>("ticket-message").value = "";
    notice(tr("ticketSent", { id: created.ticket_id }));
    await loadTickets();
  });
}

// ---- partners' access, the access log, the data report ----

const logPage = 20;

// renderAccess shows what the setting means, the pending requests and the
// approvals in force with their buttons, and the log as far as it was read.
function renderAccess(): void {
  const reqs = state.requests;
  el("access-section").hidden = reqs === null;
  if (reqs === null) return;
  const mode = state.settings?.third_party;
  el("access-mode").textContent = mode ? tr(`access_${mode}`) : "";
  el("access-requests").replaceChildren(
    ...reqs.map((r) => {
      const li = document.createElement("li");
      li.dataset.requestId = r.request_id;
      li.dataset.client = r.client_id;
      li.dataset.state = r.state;
      const name = document.createElement("strong");
      name.textContent = r.client_name;
      const purpose = document.createElement("span");
      purpose.textContent = " · " + purposeText(r.purpose);
      const when = document.createElement("div");
      when.className = "when";
      const buttons = document.createElement("div");
      if (r.state === "approved") {
        // An approval in force: until when, and the one way back.
        when.textContent = tr("approvedUntil", { date: formatDate(r.approved_until ?? r.expires_at) });
        buttons.append(decisionButton(r, "decline", "withdraw", tr("withdraw"), tr("withdrawLabel", { name: r.client_name })));
      } else {
        when.textContent = tr("requestAsked", { date: formatDate(r.created_at), until: formatDate(r.expires_at) });
        // Two lists of "Approve" would be ambiguous to a screen reader.
        buttons.append(
          decisionButton(r, "approve", "approve", tr("approve"), tr("approveLabel", { name: r.client_name })),
          decisionButton(r, "decline", "decline", tr("decline"), tr("declineLabel", { name: r.client_name })),
        );
      }
      li.append(name, purpose, when, buttons);
      return li;
    }),
  );
  el("requests-empty").hidden = reqs.length > 0;
  const body = el("access-log").querySelector("tbody") as HTMLTableSectionElement;
  body.replaceChildren(...state.log.map(logRow));
  el("access-log").hidden = state.log.length === 0;
  el("log-empty").hidden = state.log.length > 0;
  el("log-more").hidden = state.logCursor === "";
}

// decisionButton is one answer to r, its accessible name naming the partner.
function decisionButton(r: AccessRequest, decision: "approve" | "decline", cls: string, label: string, aria: string): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.className = cls;
  b.textContent = label;
  b.setAttribute("aria-label", aria);
  b.addEventListener("click", () => void decide(r, decision));
  return b;
}

function logRow(e: AccessLogEntry): HTMLTableRowElement {
  const row = document.createElement("tr");
  row.dataset.result = e.result;
  row.dataset.client = e.client_id;
  for (const text of [formatDate(e.at), e.client_name, purposeText(e.purpose), resultText(e.result)]) {
    const td = document.createElement("td");
    td.textContent = text;
    row.append(td);
  }
  return row;
}

function purposeText(p: AccessLogEntry["purpose"]): string {
  const key = "purpose_" + p;
  return isKey(key) ? tr(key) : p;
}

function resultText(r: AccessLogEntry["result"]): string {
  const key = "res_" + r;
  return isKey(key) ? tr(key) : r;
}

// loadAccess reads the requests and approvals and the log's first page afresh.
async function loadAccess(): Promise<void> {
  if (!state.token) return;
  await Promise.all([
    call(() => api.accessRequests(session), (list) => {
      state.requests = list.items;
      renderAccess();
    }, false),
    call(() => api.accessLog(session, { limit: logPage }), (page) => {
      state.log = page.items;
      state.logCursor = page.next_cursor ?? "";
      if (state.requests === null) state.requests = [];
      renderAccess();
    }, false),
  ]);
}

// loadMoreLog follows next_cursor and moves focus to the first entry it
// added, so a keyboard user goes on reading where the new ones begin.
async function loadMoreLog(): Promise<void> {
  const cursor = state.logCursor;
  if (!cursor) return;
  await call(() => api.accessLog(session, { limit: logPage, cursor }), (page) => {
    const first = state.log.length;
    state.log = [...state.log, ...page.items];
    state.logCursor = page.next_cursor ?? "";
    renderAccess();
    const row = el("access-log").querySelectorAll<HTMLTableRowElement>("tbody tr")[first];
    if (row) {
      row.tabIndex = -1;
      row.focus();
    }
  });
}

// decide answers a partner's request, or withdraws an approval in force (a
// decline of an approved request). A refusal for a weak session comes back
// as a step-up prompt whose sign-in repeats it; a request gone or already
// closed (404; 409 for one answered elsewhere, or an approval withdrawn or
// ended meanwhile) is shown in the API's words and the list is read again,
// so what is shown is what can still be answered.
async function decide(r: AccessRequest, decision: "approve" | "decline"): Promise<void> {
  const withdrawal = r.state === "approved";
  await call(async () => {
    const res = await api.decideAccessRequest(session, r.request_id, { decision });
    if (!res.ok && (res.failure.status === 404 || res.failure.status === 409)) {
      state.requests = (state.requests ?? []).filter((x) => x.request_id !== r.request_id);
      renderAccess();
      void loadAccess();
    }
    return res;
  }, async (done) => {
    // The buttons answered go with the list read again: focus goes to the
    // section's heading, where the notice is read.
    await Promise.all([loadAccess(), loadStatusQuietly()]);
    notice(done.state === "approved"
      ? tr("approvedNotice", { name: done.client_name, date: formatDate(done.approved_until ?? done.expires_at) })
      : tr(withdrawal ? "withdrawnNotice" : "declinedNotice", { name: done.client_name }));
    el("access-h").focus();
  });
}

// downloadData fetches the report with the token (a link could not carry
// it) and saves it under the name the API gives.
async function downloadData(): Promise<void> {
  await call(() => api.personalData(session), (file) => {
    const url = URL.createObjectURL(file.blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = file.filename;
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
    // The browser reads the Blob after the click returns.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    notice(tr("dataDownloaded", { name: file.filename }));
  });
}

// ---- the local side panel ----

async function detectLocal(): Promise<boolean> {
  try {
    const r = await fetch(session.base + "/_local/runner");
    if (!r.ok) return false;
    const info = (await r.json()) as { service?: string };
    return info.service === "phonebind local runner";
  } catch {
    return false;
  }
}

async function mint(sub: string, email: string, mfa: boolean, secondsAgo: number): Promise<boolean> {
  const r = await fetch(session.base + "/_local/token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ sub, email: email || undefined, amr: mfa ? ["pwd", "mfa"] : ["pwd"], signed_in_seconds_ago: secondsAgo }),
  });
  const body = (await r.json()) as { token?: string; message?: string };
  if (!r.ok || !body.token) {
    showError({ status: r.status, message: body.message ?? r.statusText });
    return false;
  }
  setToken(body.token);
  return true;
}

function setToken(token: string): void {
  const previous = claimsOf(state.token)?.sub;
  state.token = token;
  sessionStorage.setItem("phonebind.token", token);
  if (claimsOf(token)?.sub !== previous) {
    state.pending = null;
    state.status = null;
    state.tickets = [];
    state.settings = null;
    renderSettings();
    state.requests = null;
    state.log = [];
    state.logCursor = "";
    renderAccess();
    state.changeAfter = "";
    el("ticket-view").hidden = true;
  }
  renderToken();
}

// readAsPartner invokes PhoneReadFunction through the runner, as a portal
// service would (read_phone), for the signed-in account; then the page
// shows the request or log entry it made.
async function readAsPartner(): Promise<void> {
  const sub = claimsOf(state.token)?.sub;
  if (!sub) return;
  clearError();
  const event = {
    action: "read_phone",
    account_id: sub,
    purpose: el<HTMLSelectElement>("read-purpose").value,
    client_id: el<HTMLInputElement>("read-client-id").value.trim(),
    client_name: el<HTMLInputElement>("read-client-name").value.trim(),
  };
  const r = await fetch(session.base + "/_local/invoke/phone-read", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(event),
  });
  const answer = (await r.json().catch(() => ({}))) as { ok?: boolean; error?: string; errorMessage?: string };
  if (!r.ok) {
    showError({ status: r.status, message: answer.errorMessage ?? r.statusText });
    return;
  }
  const out = el("read-result");
  out.textContent = tr("devReadAnswer", { answer: JSON.stringify(answer) });
  out.dataset.result = answer.ok ? "allowed" : answer.error ?? "";
  await loadAccess();
}

async function refreshOutbox(): Promise<void> {
  if (!state.local) return;
  const targets = [state.lastPhone, claimsOf(state.token)?.email ?? ""].filter((x) => x !== "");
  const all: OutboxMessage[] = [];
  for (const to of targets) {
    const r = await fetch(session.base + "/_local/outbox?to=" + encodeURIComponent(to));
    if (r.ok) all.push(...((await r.json()) as OutboxMessage[]));
  }
  all.sort((a, b) => b.sent_at.localeCompare(a.sent_at));
  el("outbox").replaceChildren(
    ...all.map((m) => {
      const li = document.createElement("li");
      li.dataset.to = m.to;
      if (m.code) li.dataset.code = m.code;
      const head = document.createElement("strong");
      head.textContent = `${m.channel} → ${m.to}${m.code ? " · " + tr("outboxCode", { code: m.code }) : ""}`;
      const body = document.createElement("div");
      body.textContent = m.body;
      li.append(head, body);
      return li;
    }),
  );
  el("outbox-empty").hidden = all.length > 0;
}

// ---- wiring ----

function on(id: string, event: string, f: (e: Event) => Promise<void> | void): void {
  el(id).addEventListener(event, (e) => {
    if (event === "submit") e.preventDefault();
    void f(e);
  });
}

async function main(): Promise<void> {
  on("lang-switch", "click", async () => {
    state.lang = state.lang === "ru" ? "en" : "ru";
    sessionStorage.setItem("phonebind.lang", state.lang);
    applyLang();
    await Promise.all([loadStatus(), loadTickets(), loadSettings(), loadAccess()]);
  });
  on("bind-form", "submit", async () => {
    const phone = el<HTMLInputElement>("phone").value;
    state.lastPhone = phone.trim();
    sessionStorage.setItem("phonebind.phone", state.lastPhone);
    await requestCode({ purpose: "bind", phone, consent: el<HTMLInputElement>("consent").checked });
  });
  on("unbind-sms", "click", () => requestCode({ purpose: "unbind", channel: "sms" }));
  on("unbind-email", "click", () => requestCode({ purpose: "unbind", channel: "email" }));
  on("cancel-unbind", "click", cancelUnbind);
  on("code-form", "submit", confirmCode);
  on("resend", "click", async () => {
    if (state.pending) await requestCode(state.pending.request);
  });
  on("cancel", "click", () => {
    state.pending = null;
    clearError();
    renderCode();
    renderStatus();
    el(state.status?.phone ? "bind-h" : "phone").focus();
  });
  on("ticket-form", "submit", sendTicket);
  on("settings-form", "submit", saveSettings);
  on("stepup-signin", "click", async () => {
    const retry = state.stepUpRetry;
    if (state.local) {
      const c = claimsOf(state.token);
      if (!c || !(await mint(c.sub, c.email ?? "", true, 0))) return;
      el<HTMLInputElement>("dev-mfa").checked = true;
      el<HTMLSelectElement>("dev-age").value = "0";
      if (retry) await retry();
      return;
    }
    const signin = meta("phonebind-signin");
    location.assign(signin + (signin.includes("?") ? "&" : "?") + "max_age=0&return_to=" + encodeURIComponent(location.href));
  });
  on("mint-form", "submit", async () => {
    clearError();
    const ok = await mint(
      el<HTMLInputElement>("dev-sub").value.trim(),
      el<HTMLInputElement>("dev-email").value.trim(),
      el<HTMLInputElement>("dev-mfa").checked,
      Number(el<HTMLSelectElement>("dev-age").value),
    );
    if (ok) await Promise.all([loadStatus(), loadTickets(), loadSettings(), loadAccess(), refreshOutbox()]);
  });
  on("outbox-refresh", "click", refreshOutbox);
  on("read-form", "submit", readAsPartner);
  on("log-more", "click", loadMoreLog);
  on("data-download", "click", downloadData);
  setInterval(tick, 1000);

  applyLang();
  state.local = await detectLocal();
  el("dev").hidden = !state.local;
  if (state.local && !state.token) {
    await mint(el<HTMLInputElement>("dev-sub").value, el<HTMLInputElement>("dev-email").value, true, 0);
  }
  renderStatus();
  renderSettings();
  await Promise.all([loadStatus(), loadTickets(), loadSettings(), loadAccess(), refreshOutbox()]);
  document.body.dataset.ready = "1";
}

void main();
