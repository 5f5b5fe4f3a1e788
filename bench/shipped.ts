/**
 * The harness as shipped: the modules the calls bench drives, loaded from `dist/` (the tsc build
 * that `npm run bench` makes first and that `bin/cpm-harness.js` runs), typed by their sources.
 * Through tsx the same code carries esbuild's keep-names helper — one `__name()` call, an
 * Object.defineProperty, per closure created — which was about 15% of a call's CPU that the
 * shipped harness never spends, so the comparison with SIPp measured the dev loader too.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

type StackModule = typeof import('../harness/sip/stack.ts');
type BuildModule = typeof import('../harness/sip/build.ts');
type IdsModule = typeof import('../harness/core/ids.ts');

export interface ShippedSip {
  readonly SipStack: StackModule['SipStack'];
  readonly buildRequest: BuildModule['buildRequest'];
  readonly newBranch: IdsModule['newBranch'];
  readonly newCallId: IdsModule['newCallId'];
  readonly newTag: IdsModule['newTag'];
}

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'harness');

async function load<T>(path: string): Promise<T> {
  const file = join(dist, path);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` (npm run bench does) so the bench measures the shipped harness`);
  return (await import(pathToFileURL(file).href)) as T;
}

export async function shippedSip(): Promise<ShippedSip> {
  const [stack, build, ids] = await Promise.all([load<StackModule>('sip/stack.js'), load<BuildModule>('sip/build.js'), load<IdsModule>('core/ids.js')]);
  return { SipStack: stack.SipStack, buildRequest: build.buildRequest, newBranch: ids.newBranch, newCallId: ids.newCallId, newTag: ids.newTag };
}
