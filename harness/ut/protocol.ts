/**
 * The upper-tester wire protocol (docs/upper-tester.md, docs/upper-tester.openapi.yaml) as one
 * table: every route once, with its method, path, operation and request schema. The HTTP server
 * dispatches on it, the HTTP client builds requests from it and a test holds the OpenAPI file
 * against it, so the three cannot drift apart.
 */
import { z } from 'zod';
import type { UtFailure, UtOperation, UtResult } from '../client/types.ts';

export const UT_PROTOCOL = 'cpm-harness-ut';
export const UT_VERSION = 1;
export const UT_BASE_PATH = '/ut/v1';
/** Request bodies above this many octets are refused with 413. */
export const UT_BODY_LIMIT = 64 * 1024;

/**
 * Operations on the wire: the UpperTester operations plus the optional `acceptInvitation`, which
 * the in-process contract does not have (a client that auto-accepts never needs it).
 */
export type WireOperation = UtOperation | 'acceptInvitation';
export const WIRE_OPERATIONS: readonly WireOperation[] = ['queueMessage', 'goOffline', 'goOnline', 'markDisplayed', 'state', 'reset', 'acceptInvitation'];

/** An UpperTester that can also accept a pending group invitation on the user's behalf; having the method means supporting it. */
export interface InvitationAccepting {
  acceptInvitation(group: string): Promise<UtResult>;
}

// ---------------------------------------------------------------------------------------------
// Request bodies (strict: an unknown field is a 400, so a typo never passes silently)

const uri = z.string().min(1, 'must be a non-empty URI');

// {"group":"sip:grp-7f3a@conf.example.net","text":"hello"}
export const QueueMessageRequest = z.strictObject({ group: uri, text: z.string().min(1, 'must not be empty') });
// {"imdnMessageId":"Msg-7c2f9a"}
export const DisplayRequest = z.strictObject({ imdnMessageId: z.string().min(1, 'must not be empty') });
// {"group":"sip:grp-7f3a@conf.example.net"}
export const AcceptInvitationRequest = z.strictObject({ group: uri });
// {} or no body at all
export const EmptyRequest = z.strictObject({});

export type QueueMessageBody = z.infer<typeof QueueMessageRequest>;
export type DisplayBody = z.infer<typeof DisplayRequest>;
export type AcceptInvitationBody = z.infer<typeof AcceptInvitationRequest>;

// ---------------------------------------------------------------------------------------------
// The route table

export type Method = 'GET' | 'POST';

export interface Route {
  /** `capabilities` is always served; the others only when the UT supports them (else 501). */
  readonly operation: WireOperation | 'capabilities';
  readonly method: Method;
  readonly path: string;
  /** Request body schema; null for GET. */
  readonly body: z.ZodType | null;
}

export const UT_ROUTES: readonly Route[] = [
  { operation: 'capabilities', method: 'GET', path: `${UT_BASE_PATH}/capabilities`, body: null },
  { operation: 'queueMessage', method: 'POST', path: `${UT_BASE_PATH}/queue-message`, body: QueueMessageRequest },
  { operation: 'goOffline', method: 'POST', path: `${UT_BASE_PATH}/offline`, body: EmptyRequest },
  { operation: 'goOnline', method: 'POST', path: `${UT_BASE_PATH}/online`, body: EmptyRequest },
  { operation: 'markDisplayed', method: 'POST', path: `${UT_BASE_PATH}/display`, body: DisplayRequest },
  { operation: 'acceptInvitation', method: 'POST', path: `${UT_BASE_PATH}/accept-invitation`, body: AcceptInvitationRequest },
  { operation: 'state', method: 'GET', path: `${UT_BASE_PATH}/state`, body: null },
  { operation: 'reset', method: 'POST', path: `${UT_BASE_PATH}/reset`, body: EmptyRequest },
];

export function routeFor(operation: Route['operation']): Route {
  const route = UT_ROUTES.find((r) => r.operation === operation);
  if (route === undefined) throw new Error(`no route for ${operation}`); // programming error, not input
  return route;
}

// ---------------------------------------------------------------------------------------------
// Responses (tolerant of extra fields: a vendor may add its own without breaking v1 clients)

export const ErrorResponse = z.object({
  ok: z.literal(false),
  code: z.string().min(1),
  message: z.string(),
  issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })).optional(),
});
export const OkResponse = z.object({ ok: z.literal(true) });
export const CapabilitiesResponse = z.object({
  ok: z.literal(true),
  protocol: z.string(),
  version: z.number().int(),
  operations: z.array(z.string()),
  implementation: z.string().optional(),
});
const GroupViewSchema = z.object({
  identity: z.string(),
  contributionId: z.string().optional(),
  state: z.enum(['active', 'inactive', 'unknown']),
  participants: z.array(z.string()),
});
export const StateResponse = z.object({
  ok: z.literal(true),
  registered: z.boolean(),
  online: z.boolean(),
  groups: z.array(GroupViewSchema),
  outbox: z.array(z.object({ group: z.string(), text: z.string() })),
  received: z.array(z.object({ group: z.string(), from: z.string(), text: z.string(), imdnMessageId: z.string().optional() })),
});

export type ErrorBody = z.infer<typeof ErrorResponse>;
export type CapabilitiesBody = z.infer<typeof CapabilitiesResponse>;

// ---------------------------------------------------------------------------------------------
// Error codes and their HTTP status (the code is authoritative; the status classifies)

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  UT_BAD_REQUEST: 400,
  UT_NOT_FOUND: 404,
  UT_UNKNOWN_GROUP: 404,
  UT_UNKNOWN_MESSAGE: 404,
  UT_METHOD_NOT_ALLOWED: 405,
  UT_WRONG_STATE: 409,
  UT_NOT_RUNNING: 409,
  UT_OF_ORDER: 409,
  UT_NO_INVITATION: 409,
  UT_BODY_TOO_LARGE: 413,
  UT_UNSUPPORTED_MEDIA_TYPE: 415,
  UT_INTERNAL: 500,
  UT_UNSUPPORTED: 501,
};
/** Understood and attempted, but the client could not do it (e.g. its REGISTER got no 2xx). */
export const OPERATION_FAILED_STATUS = 422;

export function httpStatusFor(code: string): number {
  return STATUS_BY_CODE[code] ?? OPERATION_FAILED_STATUS;
}

export function utFailure(code: string, message: string): UtFailure {
  return { ok: false, code, message };
}

/** `group: Invalid input: expected string, received undefined` — the path first, so the vendor finds the field. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): { message: string; issues: { path: (string | number)[]; message: string }[] } {
  const list = issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message }));
  const message = list.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(body)'}: ${i.message}`).join('; ');
  return { message, issues: list };
}
