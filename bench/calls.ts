/**
 * Drivers for the calls benchmark: the same INVITE → 200 → ACK → BYE → 200 flow placed by the
 * harness's SIP stack and by SIPp's built-in UAC (`-sn uac`), both against one SIPp UAS
 * (`-sn uas`), at the same number of calls in flight. Each driver returns wall time, CPU time and
 * (for SIPp) the peak RSS of the placing process, so the bench compares like with like: the
 * answering side is the same program for both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { SipStack, Target } from '../harness/sip/stack.ts';
import { findSipp } from '../test/helpers/sipp.ts';
import type { ShippedSip } from './shipped.ts';

export interface CallsRound {
  calls: number;
  failed: number;
  wallSeconds: number;
  cpuSeconds: number;
  /** Peak resident set of the placing process (SIPp only), in KiB. */
  maxRssKiB?: number;
}

const SDP = ['v=0', 'o=harness 53655765 2353687637 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 6000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

/** One call: INVITE, the 2xx ACKed in the dialog, BYE, its 200. Resolves true on success. */
async function placeCall(sip: ShippedSip, stack: SipStack, target: Target): Promise<boolean> {
  const { buildRequest, newBranch, newCallId, newTag } = sip;
  const host = `${target.address}:${target.port}`;
  const invite = buildRequest({
    method: 'INVITE',
    uri: `sip:service@${host}`,
    via: stack.viaFor('udp', newBranch()),
    from: `<sip:harness@127.0.0.1>;tag=${newTag()}`,
    to: `<sip:service@${host}>`,
    callId: newCallId('127.0.0.1'),
    cseq: 1,
    contact: `<${stack.contactFor('udp')}>`,
    body: SDP,
    contentType: 'application/sdp',
  });
  // The stack's UAC core ACKs the 2xx in the dialog it creates (and re-ACKs retransmissions).
  const accepted = await stack.sendInvite(invite, target).accepted;
  if (accepted?.dialog == null) return false;
  const bye = stack.sendInDialog(accepted.dialog, 'BYE');
  if (!('transaction' in bye)) return false;
  const byeOutcome = await bye.transaction.result;
  return byeOutcome.kind === 'response' && byeOutcome.response.status === 200;
}

/** `total` calls with at most `concurrency` in flight, placed by the harness stack (`sip`: the modules it comes from). */
export async function harnessCalls(sip: ShippedSip, stack: SipStack, target: Target, total: number, concurrency: number): Promise<CallsRound> {
  let started = 0;
  let failed = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    while (started < total) {
      started++;
      if (!(await placeCall(sip, stack, target))) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane));
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { calls: total, failed, wallSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function sippBinary(): string {
  const binary = findSipp();
  if (binary === undefined) throw new Error('sipp not installed (apt-get install sip-tester): the calls comparison needs it');
  return binary;
}

/** SIPp's built-in UAS on 127.0.0.1:port, until `stop()`. */
export function startSippUas(port: number): { process: ChildProcess; stop: () => Promise<void> } {
  const child = spawn(sippBinary(), ['-sn', 'uas', '-i', '127.0.0.1', '-p', String(port), '-nostdin', '-t', 'u1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return { process: child, stop };
}

const TIME = '/usr/bin/time';

/**
 * SIPp's built-in UAC placing `total` calls, `concurrency` at most in flight, as fast as it can
 * (`-r` far above what it reaches). CPU and peak RSS come from /usr/bin/time when installed.
 */
export function sippCalls(uasPort: number, localPort: number, total: number, concurrency: number): Promise<CallsRound> {
  const sippArgs = [
    `127.0.0.1:${uasPort}`, '-sn', 'uac', '-i', '127.0.0.1', '-p', String(localPort), '-t', 'u1',
    '-m', String(total), '-l', String(concurrency), '-r', '1000000', '-d', '0', '-nostdin', '-timeout', '120', '-timeout_error',
  ];
  const timed = existsSync(TIME);
  const [command, args] = timed ? [TIME, ['-f', 'BENCH-TIME %e %U %S %M', sippBinary(), ...sippArgs]] : [sippBinary(), sippArgs];
  const t0 = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => out.push(c));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const wallSeconds = (performance.now() - t0) / 1000;
      const text = Buffer.concat(out).toString('latin1');
      const failedMatch = /Failed call\s*\|\s*\d+\s*\|\s*(\d+)/.exec(text);
      const failed = failedMatch ? Number(failedMatch[1]) : code === 0 ? 0 : total;
      const timing = /BENCH-TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(text);
      if (code !== 0 && failed === 0) {
        reject(new Error(`sipp uac exited ${code}:\n${text.split('\n').slice(-15).join('\n')}`));
        return;
      }
      resolve({
        calls: total,
        failed,
        wallSeconds,
        cpuSeconds: timing ? Number(timing[2]) + Number(timing[3]) : Number.NaN,
        ...(timing ? { maxRssKiB: Number(timing[4]) } : {}),
      });
    });
  });
}
