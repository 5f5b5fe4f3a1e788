/** The test catalogue: every scenario file's cases, in report order. */
import type { TestCaseDefinition } from '../harness/testcase/definition.ts';
import { CONFERENCE_CASES } from './conference.ts';
import { IMDN_CASES } from './imdn.ts';
import { INVITE_DIRECTION_CASES } from './invite-direction.ts';
import { INVITE_HANDLING_CASES } from './invite-handling.ts';
import { LIFECYCLE_CASES } from './lifecycle.ts';
import { MSRP_DELIVERY_CASES } from './msrp-delivery.ts';
import { OUTGOING_CASES } from './outgoing.ts';

export const CATALOGUE: readonly TestCaseDefinition[] = [
  ...INVITE_HANDLING_CASES,
  ...INVITE_DIRECTION_CASES,
  ...MSRP_DELIVERY_CASES,
  ...IMDN_CASES,
  ...CONFERENCE_CASES,
  ...LIFECYCLE_CASES,
  ...OUTGOING_CASES,
];
