/**
 * The optional configuration file (`--config file.yaml|json`): PIXIT values that override the
 * defaults. Validated with zod; every error names the field and how to fix it.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_LIMITS, LIMIT_DESCRIPTIONS, type Limits } from '../core/limits.ts';
import type { RunConfig } from '../testcase/config.ts';

const ms = z.number().int().nonnegative();
const positiveMs = z.number().int().positive();
const sipUri = z.string().regex(/^(sips?|tel):\S+$/, 'must be a sip:, sips: or tel: URI');

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:\[\]]+):\d{1,5}$/, 'must be <address>:<port>, e.g. "127.0.0.1:5060" or "[::1]:5060"');

/** One optional positive integer per limit; the description says what it bounds and its default. */
const limitsSchema = z
  .object(
    Object.fromEntries(
      (Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]).map((key) => [
        key,
        z.number().int().positive().describe(`${LIMIT_DESCRIPTIONS[key]} (default ${DEFAULT_LIMITS[key]})`).optional(),
      ]),
    ) as { [K in keyof Limits]: z.ZodOptional<z.ZodNumber> },
  )
  .strict();

export const configFileSchema = z
  .object({
    client: z
      .string()
      .regex(/^(builtin(:[\w-]+)?|chaos:[\w-]+|register|sips?:\S+)$/, 'must be builtin, builtin:<mutant>, chaos:<name>, register, or the client\'s contact sip:<user>@<host>:<port>[;transport=tcp]')
      .optional(),
    /** Where the PF listens (UDP and TCP), i.e. where a `register` client must REGISTER. */
    listen: hostPort.optional(),
    /** The client's upper tester: its base URL, or `prompt` for the operator at the terminal. */
    ut: z
      .string()
      .regex(/^(prompt|https?:\/\/\S+)$/, 'must be the upper tester\'s base URL (e.g. "http://192.0.2.7:8080") or "prompt"')
      .optional(),
    /** Outbound proxy the PF sends its requests through. */
    proxy: hostPort.optional(),
    /** real (lab defaults) or scaled (loopback, seconds); the `windows` section overrides single values. */
    windowProfile: z.enum(['real', 'scaled']).optional(),
    pics: z.object({ msrp: z.boolean().optional() }).strict().optional(),
    transport: z.enum(['udp', 'tcp']).optional(),
    address: z.string().min(1).optional(),
    jobs: z.number().int().min(1).max(64).optional(),
    junit: z.string().min(1).optional(),
    reportDir: z.string().min(1).optional(),
    /** Warnings fail the run (exit 1), as `--strict` does. */
    strict: z.boolean().optional(),
    timers: z.object({ t1: positiveMs.optional(), t2: positiveMs.optional(), t4: positiveMs.optional() }).strict().optional(),
    windows: z
      .object({
        registrationMs: ms.optional(),
        finalResponseMs: ms.optional(),
        msrpConnectMs: ms.optional(),
        msrpTransactionMs: ms.optional(),
        subscribeMs: ms.optional(),
        imdnMs: ms.optional(),
        idleMs: ms.optional(),
        livenessMs: ms.optional(),
        deliveryDelayMs: ms.optional(),
        quarantineMs: ms.optional(),
        sideEffectMs: ms.optional(),
        rejoinObserveMs: ms.optional(),
        shortSubscriptionSeconds: z.number().int().min(1).optional(),
        utMs: ms.optional(),
      })
      .strict()
      .optional(),
    identities: z
      .object({ clientAor: sipUri.optional(), originalSender: sipUri.optional(), groupIdentity: sipUri.optional(), pfDomain: z.string().min(1).optional() })
      .strict()
      .optional(),
    ambiguity: z
      .object({
        noDirection: z.enum(['observe', 'sdp-default', 'literal']).optional(),
        participantsOn404: z.enum(['notify-then-terminate', 'invite-resource-list']).optional(),
      })
      .strict()
      .optional(),
    /** Limits on client input (core/limits.ts); each defaults to DEFAULT_LIMITS. */
    limits: limitsSchema.optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof configFileSchema>;

export type ConfigLoad = { ok: true; value: ConfigFile } | { ok: false; message: string };

export function parseConfigText(text: string, source: string): ConfigLoad {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    return { ok: false, message: `${source}: not valid YAML/JSON: ${(error as Error).message}` };
  }
  if (data === null || data === undefined) data = {};
  const parsed = configFileSchema.safeParse(data);
  if (parsed.success) return { ok: true, value: parsed.data };
  const lines = parsed.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    const fix = issue.code === 'unrecognized_keys' ? ` — remove it or check the spelling (see \`cpm-harness init\`)` : '';
    return `  ${field}: ${issue.message}${fix}`;
  });
  return { ok: false, message: `${source}: invalid configuration:\n${lines.join('\n')}` };
}

export function loadConfigFile(path: string): ConfigLoad {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { ok: false, message: `cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
  }
  return parseConfigText(text, path);
}

/** Applies a config file over a base RunConfig (file wins, field by field). */
export function applyConfigFile(base: RunConfig, file: ConfigFile): RunConfig {
  return {
    ...base,
    ...(file.transport ? { transport: file.transport } : {}),
    ...(file.address ? { address: file.address } : {}),
    timers: { ...base.timers, ...file.timers },
    windows: { ...base.windows, ...file.windows },
    identities: { ...base.identities, ...file.identities },
    ambiguity: { ...base.ambiguity, ...file.ambiguity },
    pics: { ...base.pics, ...file.pics },
    limits: { ...base.limits, ...file.limits },
  };
}
