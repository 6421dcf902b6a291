// The public API as the page calls it: every path, body and answer typed
// from src/api.d.ts, which openapi-typescript generates from
// infra/openapi.yaml. A contract change the page does not follow fails
// `tsc --noEmit` (make web-check).
import type { components, paths } from "./api";

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
export type PhoneStatus = Schemas["PhoneStatus"];
export type CodeSent = Schemas["CodeSent"];
export type Ticket = Schemas["Ticket"];
export type TicketList = Schemas["TicketList"];
export type TicketCreated = Schemas["TicketCreated"];
export type CodeRequest = Schemas["CodeRequest"];
export type NewTicket = Schemas["NewTicket"];
export type Settings = Schemas["Settings"];
export type SettingsPatch = Schemas["SettingsPatch"];
export type AccessRequest = Schemas["AccessRequest"];
export type AccessLogEntry = Schemas["AccessLogEntry"];

type JSONOf<R> = R extends { content: { "application/json": infer T } } ? T : never;
type RequestOf<O> = O extends { requestBody: { content: { "application/json": infer B } } } ? B : never;
// The success answer of an operation: the body of its 200, 201 or 202.
type SuccessOf<O> = O extends { responses: infer R }
  ? R extends { 200: infer S } ? JSONOf<S>
  : R extends { 201: infer S } ? JSONOf<S>
  : R extends { 202: infer S } ? JSONOf<S>
  : never
  : never;

type Post<P extends keyof paths> = NonNullable<paths[P]["post"]>;
type Get<P extends keyof paths> = NonNullable<paths[P]["get"]>;
type Delete<P extends keyof paths> = NonNullable<paths[P]["delete"]>;
type Patch<P extends keyof paths> = NonNullable<paths[P]["patch"]>;

// Failure is what the page shows: the API's problem (its `detail` in the
// words the API gives) or the gateway's bare {"message"}.
export interface Failure {
  status: number;
  problem?: Problem;
  message: string;
  retryAfter?: number;
  wwwAuthenticate?: string;
}

export type Result<T> =
  | { ok: true; status: number; data: T; headers: Headers }
  | { ok: false; failure: Failure };

export interface Session {
  base: string;
  token: () => string;
  lang: () => "ru" | "en";
}

async function send<T>(s: Session, method: string, path: string, body?: unknown): Promise<Result<T>> {
  const res = await request(s, method, path, body);
  if (!(res instanceof Response)) return res;
  const text = await res.text();
  const parsed = parseJSON(text);
  if (res.ok) return { ok: true, status: res.status, data: parsed as T, headers: res.headers };
  return { ok: false, failure: failureOf(res, text, parsed) };
}

// request sends one call with the token and the language; a network
// failure comes back as the Failure to show.
async function request(s: Session, method: string, path: string, body?: unknown): Promise<Response | { ok: false; failure: Failure }> {
  const headers: Record<string, string> = {
    "Accept-Language": s.lang(),
    Authorization: "Bearer " + s.token(),
  };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  try {
    return await fetch(s.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    return { ok: false, failure: { status: 0, message: String(e) } };
  }
}

function parseJSON(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function failureOf(res: Response, text: string, parsed: unknown): Failure {
  const retry = Number(res.headers.get("Retry-After"));
  const failure: Failure = {
    status: res.status,
    message: text || res.statusText,
    retryAfter: Number.isFinite(retry) && retry > 0 ? retry : undefined,
    wwwAuthenticate: res.headers.get("WWW-Authenticate") ?? undefined,
  };
  if (parsed && typeof parsed === "object") {
    const o = parsed as Partial<Problem> & { message?: string };
    if (typeof o.code === "string" && typeof o.detail === "string") {
      failure.problem = o as Problem;
      failure.message = o.detail;
      if (failure.retryAfter === undefined && typeof o.retry_after === "number") failure.retryAfter = o.retry_after;
    } else if (typeof o.message === "string") {
      failure.message = o.message;
    }
  }
  return failure;
}

// A download is the answer's body as a Blob, kept as the server sent it,
// and the file name its Content-Disposition gives.
export interface Download {
  blob: Blob;
  filename: string;
}

// The report's header as the contract names it: were it renamed or
// dropped from the 200, this would stop compiling (the generated type's
// index signature left out, or any name would do).
type NamedKeys<T> = keyof { [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K] };
type ReportHeaders = Get<"/v1/phone/data">["responses"][200]["headers"];
const dispositionHeader: NamedKeys<ReportHeaders> = "Content-Disposition";

// filenameOf reads filename*= (RFC 6266, UTF-8) or filename= from a
// Content-Disposition; fallback when there is neither.
export function filenameOf(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      // fall through to the plain form
    }
  }
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(disposition);
  const name = plain?.[1]?.replace(/\\(.)/g, "$1") ?? plain?.[2];
  // A name is a name, never a path.
  return name ? name.replace(/[\\/]/g, "_") : fallback;
}

async function download(s: Session, path: keyof paths, fallback: string): Promise<Result<Download>> {
  const res = await request(s, "GET", path);
  if (!(res instanceof Response)) return res;
  if (!res.ok) {
    const text = await res.text();
    return { ok: false, failure: failureOf(res, text, parseJSON(text)) };
  }
  const blob = await res.blob();
  return { ok: true, status: res.status, data: { blob, filename: filenameOf(res.headers.get(dispositionHeader), fallback) }, headers: res.headers };
}

// queryOf writes an operation's query parameters, typed from the contract.
function queryOf<Q extends Record<string, string | number | undefined>>(q: Q): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
  const s = p.toString();
  return s ? "?" + s : "";
}

type AccessLogQuery = NonNullable<Get<"/v1/phone/access-log">["parameters"]["query"]>;

export const api = {
  requestCode: (s: Session, body: RequestOf<Post<"/v1/phone/verification">>) =>
    send<SuccessOf<Post<"/v1/phone/verification">>>(s, "POST", "/v1/phone/verification", body),
  confirmCode: (s: Session, body: RequestOf<Post<"/v1/phone/verification/confirm">>) =>
    send<SuccessOf<Post<"/v1/phone/verification/confirm">>>(s, "POST", "/v1/phone/verification/confirm", body),
  unbind: (s: Session, body: RequestOf<Post<"/v1/phone/unbind">>) =>
    send<SuccessOf<Post<"/v1/phone/unbind">>>(s, "POST", "/v1/phone/unbind", body),
  cancelUnbind: (s: Session) => send<SuccessOf<Delete<"/v1/phone/unbind">>>(s, "DELETE", "/v1/phone/unbind"),
  status: (s: Session) => send<SuccessOf<Get<"/v1/phone">>>(s, "GET", "/v1/phone"),
  settings: (s: Session) => send<SuccessOf<Get<"/v1/phone/settings">>>(s, "GET", "/v1/phone/settings"),
  changeSettings: (s: Session, body: RequestOf<Patch<"/v1/phone/settings">>) =>
    send<SuccessOf<Patch<"/v1/phone/settings">>>(s, "PATCH", "/v1/phone/settings", body),
  createTicket: (s: Session, body: RequestOf<Post<"/v1/feedback">>) =>
    send<SuccessOf<Post<"/v1/feedback">>>(s, "POST", "/v1/feedback", body),
  listTickets: (s: Session) => send<SuccessOf<Get<"/v1/feedback">>>(s, "GET", "/v1/feedback?limit=20"),
  getTicket: (s: Session, id: Schemas["TicketId"]) =>
    send<SuccessOf<Get<"/v1/feedback/{ticket_id}">>>(s, "GET", "/v1/feedback/" + encodeURIComponent(id)),
  accessRequests: (s: Session) =>
    send<SuccessOf<Get<"/v1/phone/access-requests">>>(s, "GET", "/v1/phone/access-requests"),
  decideAccessRequest: (s: Session, id: AccessRequest["request_id"], body: RequestOf<Post<"/v1/phone/access-requests/{request_id}">>) =>
    send<SuccessOf<Post<"/v1/phone/access-requests/{request_id}">>>(s, "POST", "/v1/phone/access-requests/" + encodeURIComponent(id), body),
  accessLog: (s: Session, query: AccessLogQuery) =>
    send<SuccessOf<Get<"/v1/phone/access-log">>>(s, "GET", "/v1/phone/access-log" + queryOf(query)),
  personalData: (s: Session) => download(s, "/v1/phone/data", "phone-data.json"),
};
