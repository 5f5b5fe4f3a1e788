/**
 * TCP connection roles from `a=setup` (RFC 4145 §4.1, used by MSRP per RFC 6135).
 * Offer/answer table: active→passive|holdconn, passive→active|holdconn,
 * actpass→active|passive|holdconn, holdconn→holdconn. Defaults when absent: the offer is
 * 'active', the answer 'passive'. The answer decides; invalid pairs are reported, not repaired.
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import type { SetupValue } from './types.ts';

/** 'none' when a side sent holdconn: no connection for the time being. */
export type ConnectionRole = 'active' | 'passive' | 'none';

export interface SetupNegotiation {
  offererRole: ConnectionRole;
  answererRole: ConnectionRole;
  diagnostics: Diagnostic[];
}

const CLAUSE = 'RFC 4145 §4.1';

/** What a conforming answerer puts in `a=setup` for a given offer. */
export function answerSetupFor(offer: SetupValue | undefined): 'active' | 'passive' | 'holdconn' {
  switch (offer) {
    case 'actpass':
    case 'passive':
      return 'active';
    case 'holdconn':
      return 'holdconn';
    case 'active':
    case undefined:
      return 'passive';
  }
}

function show(value: SetupValue | undefined, side: 'offer' | 'answer'): string {
  return value === undefined ? `no a=setup in the ${side} (default ${side === 'offer' ? 'active' : 'passive'})` : `a=setup:${value} in the ${side}`;
}

export function negotiateSetup(offer: SetupValue | undefined, answer: SetupValue | undefined): SetupNegotiation {
  const diagnostics: Diagnostic[] = [];
  const pair = `${show(offer, 'offer')}, ${show(answer, 'answer')}`;
  const bytes = answer === undefined ? undefined : `a=setup:${answer}`;
  const problem = (code: string, message: string): void => {
    diagnostics.push(bytes === undefined ? diagnostic(code, message, CLAUSE) : diagnostic(code, message, CLAUSE, { bytes }));
  };

  let answerValue: SetupValue = answer ?? 'passive';
  if (answerValue === 'actpass') {
    problem('SETUP_ANSWER_ACTPASS', `${pair}: actpass is not a valid answer; assuming the conforming choice a=setup:${answerSetupFor(offer)}`);
    answerValue = answerSetupFor(offer);
  }
  const offerValue: SetupValue = offer ?? 'active';
  const answererRole: ConnectionRole = answerValue === 'holdconn' ? 'none' : answerValue;
  let offererRole: ConnectionRole;
  if (offerValue === 'holdconn') offererRole = 'none';
  else if (offerValue === 'actpass') offererRole = answererRole === 'active' ? 'passive' : answererRole === 'passive' ? 'active' : 'none';
  else offererRole = answererRole === 'none' ? 'none' : offerValue;

  if (offerValue === 'holdconn' && answerValue !== 'holdconn') {
    problem('SETUP_HOLDCONN_MISMATCH', `${pair}: an offer of holdconn must be answered with holdconn`);
  } else if (offererRole === 'active' && answererRole === 'active') {
    problem('SETUP_BOTH_ACTIVE', `${pair}: both ends would open the connection and nobody listens`);
  } else if (offererRole === 'passive' && answererRole === 'passive') {
    problem('SETUP_BOTH_PASSIVE', `${pair}: both ends would wait for a connection that never comes`);
  }
  return { offererRole, answererRole, diagnostics };
}
