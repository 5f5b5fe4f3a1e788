/**
 * Semi-manual upper tester (`--ut prompt`): each operation becomes an instruction to the operator
 * at the terminal, who does it on the real device and confirms with Enter (or 'n' when it cannot
 * be done). A countdown shows the time left; no answer in time is UT_TIMEOUT. The operator cannot
 * read the client's internal state reliably, so `state` is not supported.
 */
import { StringDecoder } from 'node:string_decoder';
import type { ClientState, UpperTester, UtOperation, UtResult } from '../client/types.ts';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.ts';
import { utFailure } from './protocol.ts';

export interface PromptIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Time the operator has for each instruction. */
  timeoutMs: number;
  clock?: Clock;
  /** Countdown refresh period; default 1000 ms. */
  tickMs?: number;
}

export type PromptAnswer = 'done' | 'declined' | 'unclear';

/** Enter, y or yes: done; n or no: cannot. Anything else is asked again. */
export function interpretAnswer(line: string): PromptAnswer {
  const a = line.trim().toLowerCase();
  if (a === '' || a === 'y' || a === 'yes') return 'done';
  if (a === 'n' || a === 'no') return 'declined';
  return 'unclear';
}

/**
 * On a terminal the countdown overwrites one line every tick; into a file or pipe it writes a line
 * only every 10 s and in the last 3 s, so logs stay readable.
 */
export function countdownText(remainingMs: number, tty: boolean): string | null {
  const s = Math.max(0, Math.ceil(remainingMs / 1000));
  if (tty) return `\r  ${String(s).padStart(3)} s left (Enter = done, n = cannot) `;
  return s % 10 === 0 || s <= 3 ? `  ${s} s left\n` : null;
}

const HOW_TO_ANSWER = "then press Enter; type 'n' if you cannot";

export function createPromptUpperTester(io: PromptIo): UpperTester {
  const clock = io.clock ?? systemClock;
  const tickMs = io.tickMs ?? 1000;
  const tty = (io.output as { isTTY?: boolean }).isTTY === true;
  const seconds = Math.ceil(io.timeoutMs / 1000);
  // One instruction at a time: the operator cannot answer two questions with one Enter.
  let queue: Promise<unknown> = Promise.resolve();

  const askNow = (instruction: string): Promise<UtResult> =>
    new Promise<UtResult>((resolve) => {
      const decoder = new StringDecoder('utf8');
      const deadline = clock.now() + io.timeoutMs;
      let pending = '';
      let tick: TimerHandle | undefined;
      let settled = false;

      const finish = (result: UtResult, note: string): void => {
        if (settled) return;
        settled = true;
        timeout.cancel();
        tick?.cancel();
        io.input.removeListener('data', onData);
        // Paused again so a stray keypress is not taken as the answer to the next instruction,
        // and stdin does not keep the process alive.
        io.input.pause();
        io.output.write(`${tty ? '\n' : ''}  ${note}\n`);
        resolve(result);
      };
      const onData = (chunk: Buffer | string): void => {
        pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
        for (let nl = pending.indexOf('\n'); nl >= 0 && !settled; nl = pending.indexOf('\n')) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          const answer = interpretAnswer(line);
          if (answer === 'done') finish({ ok: true, value: undefined }, 'confirmed by the operator');
          else if (answer === 'declined') finish(utFailure('UT_DECLINED', `the operator could not do it: ${instruction}`), 'declined by the operator');
          else io.output.write(`${tty ? '\n' : ''}  please press Enter when done, or type 'n' if you cannot\n`);
        }
      };
      const timeout = clock.setTimer(io.timeoutMs, () =>
        finish(utFailure('UT_TIMEOUT', `no answer from the operator within ${seconds} s: ${instruction}`), `no answer within ${seconds} s`),
      );
      const countdown = (): void => {
        if (settled) return;
        const text = countdownText(deadline - clock.now(), tty);
        if (text !== null) io.output.write(text);
        tick = clock.setTimer(tickMs, countdown);
      };

      // Whatever was typed before the instruction appeared is not an answer to it.
      while (io.input.read() !== null);
      io.output.write(`\n[upper tester] ${instruction}, ${HOW_TO_ANSWER}. You have ${seconds} s.\n`);
      io.input.on('data', onData);
      io.input.resume();
      tick = clock.setTimer(tickMs, countdown);
    });

  const ask = (instruction: string): Promise<UtResult> => {
    const next = queue.then(() => askNow(instruction));
    queue = next;
    return next;
  };

  return {
    supports: new Set<UtOperation>(['queueMessage', 'goOffline', 'goOnline', 'markDisplayed']),
    queueMessage: (group, text) => ask(`On the client under test, compose a message in group ${group} with text ${JSON.stringify(text)} (send it; if the client is offline it stays queued)`),
    goOffline: () => ask('Take the client under test offline (airplane mode, or cut its network so it de-registers)'),
    goOnline: () => ask('Bring the client under test back online (network on; let it register again)'),
    markDisplayed: (imdnMessageId) => ask(`On the client under test, open the group chat and display the message with imdn.Message-ID ${imdnMessageId}`),
    state: async (): Promise<UtResult<ClientState>> => utFailure('UT_UNSUPPORTED', 'the client state cannot be reported in prompt mode'),
  };
}
