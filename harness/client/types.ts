/**
 * The client under test as the runner sees it, and the upper tester (UT): the control channel
 * into the client's application layer (PROTOCOLS.md §1.4). The built-in reference client
 * implements both in-process; external clients come through SIP addresses and an HTTP UT.
 */
import type { FaultBoundary } from '../core/scope.ts';
import type { TransportAddress } from '../core/trace.ts';

export interface UtOk<T = undefined> {
  readonly ok: true;
  readonly value: T;
}
export interface UtFailure {
  readonly ok: false;
  /** `UT_UNSUPPORTED`, `UT_TIMEOUT`, `UT_HTTP_ERROR`, … */
  readonly code: string;
  readonly message: string;
}
export type UtResult<T = undefined> = UtOk<T> | UtFailure;

export interface GroupView {
  /** Group Session Identity URI. */
  readonly identity: string;
  readonly contributionId?: string;
  /** What the client believes: active, inactive (after a 404) or unknown. */
  readonly state: 'active' | 'inactive' | 'unknown';
  readonly participants: readonly string[];
}

export interface OutboxEntry {
  readonly group: string;
  readonly text: string;
}

export interface ReceivedMessage {
  readonly group: string;
  readonly from: string;
  readonly text: string;
  readonly imdnMessageId?: string;
}

export interface ClientState {
  readonly registered: boolean;
  readonly online: boolean;
  readonly groups: readonly GroupView[];
  readonly outbox: readonly OutboxEntry[];
  readonly received: readonly ReceivedMessage[];
}

export type UtOperation = 'queueMessage' | 'goOffline' | 'goOnline' | 'markDisplayed' | 'state' | 'reset';

export interface UpperTester {
  /** Which operations this UT implements. */
  readonly supports: ReadonlySet<UtOperation>;
  /** The user composes a message for the group (sent now if a session is up, else queued). */
  queueMessage(group: string, text: string): Promise<UtResult>;
  /** The client loses connectivity (de-registers or just drops). */
  goOffline(): Promise<UtResult>;
  /** The client comes back and re-registers. */
  goOnline(): Promise<UtResult>;
  /** The user displays the message with this imdn.Message-ID. */
  markDisplayed(imdnMessageId: string): Promise<UtResult>;
  state(): Promise<UtResult<ClientState>>;
  /**
   * Conformance preamble: back to a clean state for the next test case — empty outbox, no
   * groups, sessions or subscriptions remembered, registration kept. A client that stays up
   * across test cases (an external one) needs it; a fresh client per case does not.
   */
  reset?(): Promise<UtResult>;
}

/** Where the client REGISTERs (the PF's registrar). */
export type RegistrarAddress = TransportAddress;

/** What the runner tells a client before each test case. */
export interface ClientEnvironment {
  /** Where to REGISTER (the PF's registrar). */
  readonly registrar: RegistrarAddress;
  /** The client's public identity (address of record), e.g. `sip:+15551230002@ims.example.net`. */
  readonly aor: string;
  /** The group session identity used by this case. */
  readonly groupIdentity: string;
  /** SIP timers to use (scaled in built-in runs). */
  readonly timers: { readonly t1: number; readonly t2: number; readonly t4: number };
}

export interface ClientUnderTest {
  /** Shown in reports: `builtin`, `builtin:no-imdn`, `sip:alice@127.0.0.1:5070`. */
  readonly description: string;
  readonly upperTester: UpperTester | null;
  /** Brings the client up for one test case; it REGISTERs with `env.registrar`. */
  start(env: ClientEnvironment): Promise<void>;
  /** Tears it down; must not throw and must release every socket. */
  stop(): Promise<void>;
  /**
   * Where the client already is (external clients): the runner installs this binding in the case's
   * PF (`adoptBinding`) instead of waiting for a REGISTER. Absent = wait for a REGISTER.
   */
  readonly contact?: string;
  /**
   * True for a client that outlives the test case (external clients): the runner ends the case's
   * conference subscriptions before the PF goes, so the next case starts from a clean state.
   */
  readonly persistent?: boolean;
  /** The runner starts waiting for a REGISTER within `withinMs`; returns what ends the countdown it shows. */
  awaitingRegistration?(withinMs: number): () => void;
  /** The binding the case's PF ended up with (REGISTER or refresh), so the next case can carry it over. */
  observedBinding?(contact: string): void;
}

/** What the runner gives a client for one test case. */
export interface ClientCaseScope {
  /** The case's fault boundary: an in-process client's sockets, timers and background work are guarded by it. */
  readonly boundary: FaultBoundary;
}

export interface ClientFactory {
  readonly description: string;
  /** A fresh client for one test case (test cases are independent). */
  create(scope?: ClientCaseScope): ClientUnderTest;
}
