/**
 * How an MSRP endpoint answers (RFC 4975 §7.1.2, §7.2, §7.3.1): which SEND gets a response and
 * which status, whether an error answer or a REPORT answer goes out at all, whether a success
 * REPORT is sent. The RFC behaviour is the default policy; a deliberately broken peer (the
 * reference client's mutants) overrides one field. Pure: the session engine asks, then acts.
 */
import { failureReportOf, successReportOf, type MsrpRequest, type MsrpResponse } from './frame.ts';

export type SendResponder = (request: MsrpRequest) => { status: number; comment?: string } | null;

export interface MsrpPolicy {
  respondToSend: 'rfc' | 'never' | 'always' | SendResponder;
  sendReports: 'rfc' | 'never';
  respondToReport: boolean;
  unknownMethodStatus: number;
  /** Rewrites each transaction response before it is sent (a deliberately broken peer); default none. */
  reshapeResponse?: (response: MsrpResponse, request: MsrpRequest) => MsrpResponse;
}

export const RFC_POLICY: Readonly<MsrpPolicy> = { respondToSend: 'rfc', sendReports: 'rfc', respondToReport: false, unknownMethodStatus: 501 };

export type Answer = { status: number; comment?: string } | null;

/** §7.1.2: 200 when Failure-Report is yes, 400 for a malformed SEND unless Failure-Report is no; null = no response. */
export function sendAnswer(policy: MsrpPolicy, request: MsrpRequest, malformed: boolean): Answer {
  const respond = policy.respondToSend;
  if (typeof respond === 'function') return respond(request);
  if (respond === 'never') return null;
  if (respond === 'always') return { status: malformed ? 400 : 200 };
  const failureReport = failureReportOf(request);
  if (malformed) return failureReport === 'no' ? null : { status: 400 };
  return failureReport === 'yes' ? { status: 200 } : null;
}

/** §7.3.1: 413 for a chunk or message over the limits, unless the policy keeps this side silent. */
export function tooLargeAnswer(policy: MsrpPolicy, request: MsrpRequest): Answer {
  const respond = policy.respondToSend;
  if (typeof respond === 'function') return respond(request);
  if (respond === 'never') return null;
  if (respond === 'rfc' && failureReportOf(request) === 'no') return null;
  return { status: 413, comment: 'Message Too Large' };
}

/** Whether a response goes out at all: error answers (481, 501, 506) to a SEND obey the SEND policy, a REPORT is answered only if the policy says so (§7.1.2). */
export function answers(policy: MsrpPolicy, request: MsrpRequest, isError: boolean): boolean {
  if (isError && request.method === 'SEND') {
    if (policy.respondToSend === 'never') return false;
    if (policy.respondToSend === 'rfc' && failureReportOf(request) === 'no') return false;
  }
  return request.method !== 'REPORT' || policy.respondToReport;
}

/** §7.1.2: a success REPORT for a complete message whose first chunk asked for one. */
export function reportsSuccess(policy: MsrpPolicy, first: MsrpRequest): boolean {
  return policy.sendReports === 'rfc' && successReportOf(first) === 'yes';
}
