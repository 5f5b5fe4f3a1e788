/** JUnit XML checked against the Jenkins xUnit junit-10.xsd with xmllint (CI must have it: .ci/run installs libxml2-utils). */
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { validateWithXmllint, xmllintAvailable } from '../../harness/xml/xmllint.ts';

export const JUNIT_XSD = fileURLToPath(new URL('../../fixtures/schemas/junit-10.xsd', import.meta.url));

export function expectValidJunit(xml: string): void {
  if (!xmllintAvailable()) {
    if (process.env.CI === 'true') throw new Error('xmllint not installed; .ci/run installs libxml2-utils');
    return;
  }
  const outcome = validateWithXmllint(xml, JUNIT_XSD);
  expect(outcome.available && outcome.valid, outcome.available ? outcome.output : '').to.equal(true);
}
