/**
 * Clients the harness does not start: one at a known SIP contact (`--client sip:…`) and one that
 * registers by itself (`--client register`). Neither has a process to start or stop; what they
 * share across test cases is where the client is (its binding) and the configured upper tester.
 */
import { systemClock, type Clock, type TimerHandle } from '../core/clock.ts';
import type { TransportKind } from '../core/trace.ts';
import { getParam } from '../sip/lex.ts';
import { parseSipUri } from '../sip/uri.ts';
import type { ClientFactory, ClientUnderTest, UpperTester } from './types.ts';

export type ContactCheck = { ok: true; contact: string; transport?: TransportKind } | { ok: false; message: string };

const CONTACT_EXAMPLE = 'e.g. --client "sip:+15551230002@192.0.2.7:5070;transport=tcp"';

/** A `--client sip:…` value: a SIP URI with a host and, if it says so, transport udp or tcp. */
export function checkClientContact(spec: string): ContactCheck {
  const parsed = parseSipUri(spec);
  if (!parsed.ok || parsed.value.scheme !== 'sip') {
    return { ok: false, message: `--client ${JSON.stringify(spec)} is not a sip: URI of the client's contact; ${CONTACT_EXAMPLE}` };
  }
  if (parsed.value.port === undefined) {
    return { ok: false, message: `--client ${spec} has no port; give the port the client listens on, ${CONTACT_EXAMPLE}` };
  }
  const transport = getParam(parsed.value.params, 'transport');
  if (transport === undefined) return { ok: true, contact: spec };
  const t = typeof transport === 'string' ? transport.toLowerCase() : '';
  if (t !== 'udp' && t !== 'tcp') {
    return { ok: false, message: `--client ${spec}: transport=${String(transport)} is not supported; use transport=udp or transport=tcp` };
  }
  return { ok: true, contact: spec, transport: t };
}

export interface CountdownOptions {
  write: (text: string) => void;
  /** One rewritten line when true; otherwise a line every 10 s, so logs stay readable. */
  tty: boolean;
  /** What the operator should do, e.g. "start the client; it must REGISTER at tcp 127.0.0.1:5060". */
  what: string;
  clock?: Clock;
  tickMs?: number;
}

/** The countdown text for `remainingMs`, or null when nothing is printed at this tick (non-TTY). */
export function registrationCountdownLine(remainingMs: number, tty: boolean): string | null {
  const s = Math.max(0, Math.ceil(remainingMs / 1000));
  if (tty) return `\r  waiting for REGISTER: ${String(s).padStart(3)} s left `;
  return s % 10 === 0 ? `  waiting for REGISTER: ${s} s left\n` : null;
}

/** Shows the time left to REGISTER until the returned function is called (or the time is up). */
export function startRegistrationCountdown(withinMs: number, options: CountdownOptions): () => void {
  const clock = options.clock ?? systemClock;
  const tickMs = options.tickMs ?? 1000;
  const deadline = clock.now() + withinMs;
  let timer: TimerHandle | undefined;
  let stopped = false;
  options.write(`${options.what} (${Math.ceil(withinMs / 1000)} s)\n`);
  const tick = (): void => {
    if (stopped) return;
    const remaining = deadline - clock.now();
    const line = registrationCountdownLine(remaining, options.tty);
    if (line !== null) options.write(line);
    if (remaining > 0) timer = clock.setTimer(tickMs, tick);
  };
  timer = clock.setTimer(tickMs, tick);
  return () => {
    if (stopped) return;
    stopped = true;
    timer?.cancel();
    if (options.tty) options.write('\n');
  };
}

/** A client the harness neither starts nor stops: both are no-ops, and the upper tester is shared. */
class ExternalClient implements ClientUnderTest {
  readonly persistent = true;

  constructor(
    readonly description: string,
    readonly upperTester: UpperTester | null,
    private readonly where: () => string | undefined,
    private readonly hooks: { countdown?: (withinMs: number) => () => void; observed?: (contact: string) => void } = {},
  ) {}

  get contact(): string | undefined {
    return this.where();
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  awaitingRegistration(withinMs: number): () => void {
    return this.hooks.countdown?.(withinMs) ?? (() => {});
  }

  observedBinding(contact: string): void {
    this.hooks.observed?.(contact);
  }
}

export interface SipContactClientOptions {
  /** The client's contact URI (`sip:user@host:port[;transport=tcp]`), checked with checkClientContact. */
  contact: string;
  upperTester: UpperTester | null;
}

/** `--client sip:…`: every case's PF adopts this contact; no REGISTER is needed. */
export function createSipContactClientFactory(options: SipContactClientOptions): ClientFactory {
  return {
    description: options.contact,
    create: () => new ExternalClient(options.contact, options.upperTester, () => options.contact),
  };
}

export interface RegisteringClientOptions {
  upperTester: UpperTester | null;
  /** Shown while the first REGISTER is awaited; absent = silent. */
  countdown?: Omit<CountdownOptions, 'clock'> & { clock?: Clock };
  /** Or the caller shows the wait itself (the live status line): called instead of `countdown`. */
  awaiting?: (withinMs: number) => () => void;
}

export interface RegisteringClientFactory extends ClientFactory {
  /** The contact of the last binding seen, or undefined before the first REGISTER. */
  readonly carriedContact: string | undefined;
}

/**
 * `--client register`: the first case waits for the client's REGISTER; later cases adopt the
 * binding it created (and any refresh that changed it) in their fresh PF on the same ports.
 */
export function createRegisteringClientFactory(options: RegisteringClientOptions): RegisteringClientFactory {
  let carried: string | undefined;
  const countdown = options.countdown;
  const awaiting = options.awaiting ?? (countdown ? (withinMs: number) => startRegistrationCountdown(withinMs, countdown) : undefined);
  return {
    description: 'register',
    get carriedContact() {
      return carried;
    },
    create: () =>
      new ExternalClient('register', options.upperTester, () => carried, {
        ...(awaiting ? { countdown: awaiting } : {}),
        observed: (contact) => {
          carried = contact;
        },
      }),
  };
}
