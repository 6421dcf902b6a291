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
  const headers: Record<string, string> = {
    "Accept-Language": s.lang(),
    Authorization: "Bearer " + s.token(),
  };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(s.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    return { ok: false, failure: { status: 0, message: String(e) } };
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (res.ok) return { ok: true, status: res.status, data: parsed as T, headers: res.headers };
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
  return { ok: false, failure };
}

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
};
