/** The lower-layer types the PF API names, gathered in one place (types only, no values). */
export type { SipRequest, SipResponse, SipMessage } from '../sip/message.ts';
export type { ParsedSdp, Direction } from '../sdp/types.ts';
export type { MsrpFrame, MsrpRequest, MsrpResponse } from '../msrp/frame.ts';
export type { Diagnostic } from '../core/diagnostic.ts';
export type { TraceSink } from '../core/trace.ts';
export type { Clock } from '../core/clock.ts';
export type { FaultBoundary, PeerWatch } from '../core/scope.ts';
export type { TransportAddress } from '../core/trace.ts';
export type { PfConfig } from './config.ts';
export type { Dialog } from '../sip/dialog.ts';
export type { ParsedCpim } from '../cpim/cpim.ts';
export type { ParsedImdn } from '../imdn/imdn.ts';

export type { Binding } from '../sip/registrar.ts';
export type { MsrpSession } from '../msrp/session.ts';
