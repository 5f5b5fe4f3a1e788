/**
 * The requirement catalogue the product is held to (shared/spec/REQUIREMENTS.md). IDs are stable:
 * test cases, verdicts, JUnit names and reports carry them.
 */
export type Level = 'SHALL' | 'SHOULD' | 'SHOULD NOT' | 'MAY' | 'informative' | 'descriptive';
export type UtNeed = 'no' | 'yes' | 'partly' | 'display-only';

export interface Requirement {
  readonly id: string;
  readonly level: Level;
  readonly title: string;
  /** Where the rule comes from. */
  readonly source: string;
  readonly upperTester: UtNeed;
}

const CR = 'OMA CPM Conv. Functions 2.1 §7.3.12';

export const REQUIREMENTS = [
  { id: '7.3.12-1a', level: 'SHALL', title: 'handle the PF-initiated group INVITE (CPM ICSI in Accept-Contact): a final response', source: `${CR} 1)a`, upperTester: 'no' },
  { id: '7.3.12-1a-i', level: 'SHALL', title: 'effective direction sendrecv: accept (2xx, usable MSRP answer)', source: `${CR} 1)a)i`, upperTester: 'no' },
  { id: '7.3.12-1a-ii', level: 'SHALL', title: 'effective direction not sendrecv: exactly 488 Not Acceptable Here, no side effects', source: `${CR} 1)a)i "Else"; RFC 3261 §13.3.1.3, §17`, upperTester: 'no' },
  { id: '7.3.12-1a-ii-warning', level: 'SHOULD', title: 'the 488 carries a Warning header', source: 'RFC 3261 §13.3.1.3', upperTester: 'no' },
  { id: '7.3.12-1a-i-absent', level: 'informative', title: 'no direction attribute anywhere: observed answer reported', source: `${CR} 1)a)i; RFC 8866 §6.7`, upperTester: 'no' },
  { id: '7.3.12-1a-i-1', level: 'SHALL', title: 'deferred messages received on this session (200 to every SEND chunk)', source: `${CR} 1)a)i 1.`, upperTester: 'no' },
  { id: '7.3.12-1a-i-2', level: 'SHALL', title: 'delivery notifications sent on this session', source: `${CR} 1)a)i 2.`, upperTester: 'no' },
  { id: '7.3.12-1a-i-3', level: 'SHALL', title: 'new group chat messages sent on this session', source: `${CR} 1)a)i 3.`, upperTester: 'yes' },
  { id: '7.3.12-1b-sub', level: 'SHALL', title: 'SUBSCRIBE to the conference event package once the session is established', source: `${CR} 1)b`, upperTester: 'no' },
  { id: '7.3.12-1b-wait', level: 'SHOULD', title: 'keep the session while the PF delays deferred delivery', source: `${CR} 1)b`, upperTester: 'no' },
  { id: '7.3.12-1b-i-a', level: 'descriptive', title: 'NOTIFY with participant info: session still active (200 to NOTIFY, session kept)', source: `${CR} 1)b)i`, upperTester: 'no' },
  { id: '7.3.12-1b-i-b', level: 'SHALL', title: 'SUBSCRIBE answered 404: session inactive (no re-SUBSCRIBE, no BYE, later message by re-join)', source: `${CR} 1)b)i`, upperTester: 'partly' },
  { id: '7.3.12-1b-ii', level: 'SHALL', title: 'every requested IMDN returned via MSRP', source: `${CR} 1)b)ii`, upperTester: 'display-only' },
  { id: '7.3.12-1c-i', level: 'SHALL', title: 'nothing to send: wait for the PF to terminate the deferred delivery; 2xx to its BYE', source: `${CR} 1)c)i; RFC 3261 §15.1.2`, upperTester: 'no' },
  { id: '7.3.12-1c-ii', level: 'SHALL', title: 'nothing to send: requested IMDNs sent via MSRP', source: `${CR} 1)c)ii`, upperTester: 'display-only' },
  { id: '7.3.12-1c-iii', level: 'SHALL', title: 'nothing to send: SUBSCRIBE to the conference event package', source: `${CR} 1)c)iii`, upperTester: 'no' },
  { id: '7.3.12-1d-i', level: 'SHALL', title: 'queued message sent via MSRP on the PF-initiated session', source: `${CR} 1)d)i`, upperTester: 'yes' },
  { id: '7.3.12-1d-ii', level: 'SHALL', title: 'maintain the conference subscription (refresh before expiry; one subscription)', source: `${CR} 1)d)ii`, upperTester: 'no' },
  { id: '7.3.12-2a', level: 'MAY', title: 'back online with a queued message: re-join INVITE to the group, then the message via MSRP', source: `${CR} 2)a; §7.3.1.5`, upperTester: 'yes' },
  { id: '7.3.12-NOTE', level: 'SHOULD NOT', title: 'back online with nothing queued: no re-join INVITE', source: `${CR} 2) NOTE`, upperTester: 'yes' },
  { id: 'imdn-fields', level: 'SHALL', title: 'IMDN XML fields match the message (message-id, datetime, status, recipient, schema-valid)', source: 'RFC 5438 §7.1; PROTOCOLS.md §2.10.1', upperTester: 'no' },
  { id: 'imdn-envelope', level: 'SHALL', title: 'IMDN CPIM envelope (Content-Type, Content-Disposition, own Message-ID, To = original From)', source: 'RFC 5438 §7, RFC 3862', upperTester: 'no' },
  { id: 'imdn-not-requested', level: 'SHOULD NOT', title: 'no notification of a kind that was not requested', source: `${CR} 1)b)ii "the requested IMDN"; RFC 5438 §6`, upperTester: 'no' },
  { id: 'imdn-once', level: 'SHALL', title: 'one notification per message and kind, also for chunked messages', source: 'RFC 5438 §7', upperTester: 'no' },
  // "No response to a REPORT" is here, not under msrp-report: RFC 4975 §7.1.2 says MUST NOT (docs/rfc-checks.md row 18).
  {
    id: 'msrp-response',
    level: 'SHALL',
    title: 'MSRP 200 with the SEND transaction id and swapped paths; none when Failure-Report: no; none to a REPORT',
    source: 'RFC 4975 §7.1.2, §7.2, §7.3',
    upperTester: 'no',
  },
  { id: 'msrp-setup', level: 'SHALL', title: 'MSRP connection direction per a=setup (absent in offer: answerer passive)', source: 'RFC 4145 §4.1, RFC 6135', upperTester: 'no' },
  { id: 'msrp-report', level: 'SHOULD', title: 'REPORT when Success-Report: yes', source: 'RFC 4975 §7.1.2', upperTester: 'no' },
  // Not a row of REQUIREMENTS.md: what every case needs before it can judge anything (README "Hostile clients").
  {
    id: 'wire',
    level: 'SHALL',
    title: 'what the client sends on SIP and MSRP can be framed, arrives whole and stays within the harness limits (judged in every case)',
    source: 'RFC 3261 §7, §18.3; RFC 4975 §7.1, §9; the harness limits (README "Limits")',
    upperTester: 'no',
  },
] as const satisfies readonly Requirement[];

/** Every requirement ID of the catalogue: a typo in a rule or a test case is a type error. */
export type RequirementId = (typeof REQUIREMENTS)[number]['id'];

const byId = new Map<string, Requirement>(REQUIREMENTS.map((r) => [r.id, r]));

/** For ids typed by a person (`--req`): undefined when the catalogue has no such ID. */
export function findRequirement(id: string): Requirement | undefined {
  return byId.get(id);
}

export function isRequirementId(id: string): id is RequirementId {
  return byId.has(id);
}

export function requirement(id: RequirementId): Requirement {
  return byId.get(id)!;
}

/**
 * Harness requirements: judged by the runner in every case (from the case's fault boundary), declared
 * by none. `list`, `rules` and the reports show them beside the catalogue's rows.
 */
export const EVERY_CASE_REQUIREMENTS: readonly RequirementId[] = ['wire'];

export function judgedInEveryCase(id: string): boolean {
  return (EVERY_CASE_REQUIREMENTS as readonly string[]).includes(id);
}

/**
 * Whether a case that ran held an every-case requirement: no verdict on it and the case ran to an
 * end of its own (not skipped, not cut off by a harness fault, which stops the watch).
 */
export function heldInCase(result: { readonly outcome: string; readonly verdicts: readonly { readonly requirement: string }[]; readonly error?: unknown }, id: string): boolean {
  return judgedInEveryCase(id) && result.outcome !== 'skipped' && result.outcome !== 'error' && !result.verdicts.some((v) => v.requirement === id);
}

/** What a violation of a requirement at this level amounts to. */
export function violationOutcome(level: Level): 'fail' | 'warning' | 'informative' {
  if (level === 'SHALL') return 'fail';
  if (level === 'SHOULD' || level === 'SHOULD NOT') return 'warning';
  return 'informative';
}
