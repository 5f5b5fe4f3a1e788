/**
 * The live status line of a run on a terminal: which cases are running, how long the run has
 * taken, the counts so far and an estimate of the time left, plus a countdown while the harness
 * waits for the client (its REGISTER, an observation window, an upper-tester step). It is the
 * last line of the terminal, rewritten in place; every other line goes through `print` so the
 * status is cleared before and redrawn after. Only used when stdout is a TTY.
 */
import pc from 'picocolors';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.ts';
import type { Windows } from '../testcase/config.ts';
import { OUTCOMES_WORST_FIRST, type Outcome } from '../verdict/verdict.ts';

export interface Wait {
  /** What the harness waits for, e.g. `REGISTER at 127.0.0.1:5060`, `quarantineMs window`. */
  readonly what: string;
  readonly caseId?: string;
  /** Clock time at which the wait ends at the latest. */
  readonly deadline: number;
}

export interface StatusSnapshot {
  readonly now: number;
  readonly startedAt: number;
  /** Case runs planned (cases × repeat). */
  readonly planned: number;
  readonly done: number;
  readonly counts: Readonly<Partial<Record<Outcome, number>>>;
  readonly running: readonly { readonly id: string; readonly since: number }[];
  readonly waits: readonly Wait[];
  /** Estimated milliseconds left, or undefined when nothing is known yet. */
  readonly leftMs?: number;
}

const SHORT: Record<Outcome, string> = { pass: 'pass', informative: 'info', inconclusive: 'inconc', warning: 'warn', fail: 'fail', error: 'error', skipped: 'skip' };
const PAINT: Record<Outcome, (s: string) => string> = { pass: pc.green, informative: pc.cyan, inconclusive: pc.blue, warning: pc.yellow, fail: pc.red, error: pc.magenta, skipped: pc.dim };

/** 0:07, 4:32, 1:02:03. */
export function clockText(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/**
 * The estimate before any case has finished: a case waits about one observation window, so the
 * median of the configured windows (real windows: ~20 s; scaled: a few hundred ms) per case.
 */
export function priorCaseMs(windows: Windows): number {
  const observation = [windows.subscribeMs, windows.imdnMs, windows.idleMs, windows.sideEffectMs, windows.rejoinObserveMs, windows.quarantineMs].sort((a, b) => a - b);
  const mid = observation.length >> 1;
  return (observation[mid - 1]! + observation[mid]!) / 2;
}

/**
 * Time left: cases not yet finished times the mean duration so far (the windows' prior before
 * the first case ends), less what the running ones have already spent, spread over the jobs.
 */
export function estimateLeftMs(input: { planned: number; done: number; finishedMs: number; running: readonly number[]; jobs: number; priorMs: number }): number {
  const perCase = input.done > 0 ? input.finishedMs / input.done : input.priorMs;
  const waiting = Math.max(0, input.planned - input.done - input.running.length);
  const runningLeft = input.running.reduce((s, elapsed) => s + Math.max(perCase * 0.1, perCase - elapsed), 0);
  return (waiting * perCase + runningLeft) / Math.max(1, Math.min(input.jobs, Math.max(1, input.planned - input.done)));
}

function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/** Cuts a coloured line to `width` visible characters. */
export function fitWidth(text: string, width: number): string {
  if (visibleLength(text) <= width) return text;
  let out = '';
  let shown = 0;
  // eslint-disable-next-line no-control-regex
  for (const part of text.split(/(\x1b\[[0-9;]*m)/)) {
    if (part.startsWith('\x1b[')) {
      out += part;
      continue;
    }
    const room = width - 1 - shown;
    if (room <= 0) continue;
    out += part.slice(0, room);
    shown += Math.min(part.length, room);
  }
  return out + '…\x1b[0m';
}

/** The status line (no newline, no control sequence but colours). */
export function statusLine(s: StatusSnapshot): string {
  const parts: string[] = [];
  parts.push(pc.bold(`${s.done}/${s.planned}`));
  const counts = OUTCOMES_WORST_FIRST.filter((o) => (s.counts[o] ?? 0) > 0).map((o) => PAINT[o](`${SHORT[o]} ${s.counts[o]}`));
  if (counts.length > 0) parts.push(counts.join(' '));
  parts.push(`${clockText(s.now - s.startedAt)} elapsed`);
  if (s.leftMs !== undefined && s.done < s.planned) parts.push(`~${clockText(s.leftMs)} left`);
  const wait = [...s.waits].sort((a, b) => b.deadline - a.deadline)[0];
  if (wait) parts.push(pc.yellow(`${wait.caseId ? `${wait.caseId}: ` : ''}waiting for ${wait.what}, ${clockText(wait.deadline - s.now)} left`));
  if (s.running.length > 0) parts.push(pc.dim(`running ${s.running.map((r) => `${r.id} ${clockText(s.now - r.since)}`).join(', ')}`));
  return parts.join(pc.dim('  ·  '));
}

export interface LiveStatusOptions {
  write: (text: string) => void;
  planned: number;
  jobs: number;
  windows: Windows;
  /** Terminal width; the line is cut to it so it never wraps (a wrapped line cannot be rewritten). */
  columns: () => number;
  clock?: Clock;
  tickMs?: number;
}

export class LiveStatus {
  private readonly clock: Clock;
  private readonly startedAt: number;
  private readonly running = new Map<string, number>();
  private readonly waits = new Set<Wait>();
  private readonly counts: Partial<Record<Outcome, number>> = {};
  private done = 0;
  private finishedMs = 0;
  private timer: TimerHandle | undefined;
  private shown = false;
  private paused = 0;
  private stopped = false;

  constructor(private readonly options: LiveStatusOptions) {
    this.clock = options.clock ?? systemClock;
    this.startedAt = this.clock.now();
  }

  start(): void {
    this.redraw();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(this.options.tickMs ?? 1000, () => {
      this.redraw();
      this.schedule();
    });
  }

  /** A line of ordinary output (a finished case, a message): above the status line. */
  print(text: string): void {
    this.clear();
    this.options.write(text);
    this.redraw();
  }

  caseStarted(id: string): void {
    this.running.set(id, this.clock.now());
    this.redraw();
  }

  caseFinished(id: string, outcome: Outcome, durationMs: number): void {
    this.running.delete(id);
    this.done++;
    this.finishedMs += durationMs;
    this.counts[outcome] = (this.counts[outcome] ?? 0) + 1;
  }

  /** Shows a countdown until the returned function is called. */
  beginWait(what: string, withinMs: number, caseId?: string): () => void {
    const wait: Wait = { what, deadline: this.clock.now() + withinMs, ...(caseId === undefined ? {} : { caseId }) };
    this.waits.add(wait);
    this.redraw();
    return () => {
      if (this.waits.delete(wait)) this.redraw();
    };
  }

  /** Someone else owns the terminal line for a while (the operator prompt): stop redrawing until resumed. */
  pause(): () => void {
    this.clear();
    this.paused++;
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      this.paused--;
      this.redraw();
    };
  }

  snapshot(): StatusSnapshot {
    const now = this.clock.now();
    const running = [...this.running].map(([id, since]) => ({ id, since }));
    const leftMs = estimateLeftMs({
      planned: this.options.planned,
      done: this.done,
      finishedMs: this.finishedMs,
      running: running.map((r) => now - r.since),
      jobs: this.options.jobs,
      priorMs: priorCaseMs(this.options.windows),
    });
    return { now, startedAt: this.startedAt, planned: this.options.planned, done: this.done, counts: { ...this.counts }, running, waits: [...this.waits], leftMs };
  }

  private clear(): void {
    if (!this.shown) return;
    this.options.write('\r\x1b[2K');
    this.shown = false;
  }

  private redraw(): void {
    if (this.stopped || this.paused > 0) return;
    const width = Math.max(20, this.options.columns() - 1);
    this.options.write(`\r\x1b[2K${fitWidth(statusLine(this.snapshot()), width)}`);
    this.shown = true;
  }

  /** Removes the status line for good (before the summary). */
  stop(): void {
    if (this.stopped) return;
    this.clear();
    this.stopped = true;
    this.timer?.cancel();
  }
}
