import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { diagnosticTextLimit } from '../../harness/core/diagnostic.ts';
import { parseConferenceInfo } from '../../harness/conference/conference-info.ts';
import { parseImdnXml } from '../../harness/imdn/imdn.ts';
import { parseXmlSafely } from '../../harness/xml/safe-xml.ts';

const read = (path: string) => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url));
const codes = (xml: Buffer | string, limits = {}) => parseXmlSafely(xml, 'test', { limits }).diagnostics.map((d) => d.code);

describe('xml/safe-xml: checks on the parsed structure, limits', () => {
  it('a DOCTYPE or ENTITY inside a comment, CDATA or a PI is content, not a declaration', () => {
    const p = parseImdnXml(read('imdn/doctype-in-comment.xml'));
    expect(p.diagnostics).to.deep.equal([]);
    expect(p.messageId).to.equal('Msg7hQ2xLp0aZ');
    const cdata = parseXmlSafely('<a><![CDATA[<!DOCTYPE a [<!ENTITY e "boom">]>]]><?pi <!DOCTYPE ?></a>', 'test');
    expect(cdata.diagnostics).to.deep.equal([]);
    expect(cdata.root?.text).to.equal('<!DOCTYPE a [<!ENTITY e "boom">]>');
  });

  it('a real DOCTYPE or ENTITY is still refused before parsing, after a comment too and in any spelling', () => {
    expect(codes('<!-- hi --><!DOCTYPE a [<!ENTITY e "boom">]><a>&e;</a>')).to.deep.equal(['XML_DOCTYPE_FORBIDDEN', 'XML_ENTITY_DECLARATION']);
    expect(codes('<!doctype a><a/>')).to.deep.equal(['XML_DOCTYPE_FORBIDDEN']);
    expect(codes('<a><!ENTITY e "x"></a>')).to.deep.equal(['XML_ENTITY_DECLARATION']);
    // An unterminated comment hides nothing: the validator refuses the document.
    expect(codes('<a><!-- <!DOCTYPE a>')).to.deep.equal(['XML_MALFORMED']);
  });

  it('XML_TOO_DEEP: nesting above xmlDepth is refused before the validator or the tree builder (no stack overflow)', () => {
    expect(parseImdnXml(read('imdn/malformed/too-deep.xml')).diagnostics.map((d) => d.code)).to.deep.equal(['XML_TOO_DEEP']);
    const deep = '<a>'.repeat(200_000);
    expect(codes(deep)).to.deep.equal(['XML_TOO_DEEP']);
    expect(codes('<a>'.repeat(33) + '</a>'.repeat(33))).to.deep.equal(['XML_TOO_DEEP']);
    expect(codes('<a>'.repeat(32) + '<b/>' + '</a>'.repeat(32))).to.deep.equal([]);
    // Depth is counted on start tags only, whatever the attributes hold.
    expect(codes(`<a x="${'<b>'.repeat(40)}"/>`)).to.not.include('XML_TOO_DEEP');
  });

  it('an unclosed tag stack never becomes an 800 kB diagnostic', () => {
    const result = parseXmlSafely('<a>'.repeat(200_000), 'test', { limits: { xmlDepth: 1_000_000 } });
    expect(result.diagnostics.map((d) => d.code)).to.deep.equal(['XML_MALFORMED']);
    expect(result.diagnostics[0]!.message.length).to.be.below(diagnosticTextLimit() + 100);
  });

  it('XML_ATTRIBUTE_TOO_LARGE and XML_TOO_LARGE', () => {
    expect(parseImdnXml(read('imdn/malformed/attribute-too-large.xml')).diagnostics.map((d) => d.code)).to.deep.equal(['XML_ATTRIBUTE_TOO_LARGE']);
    expect(codes(`<a b='${'x'.repeat(100)}'/>`, { xmlAttributeBytes: 99 })).to.deep.equal(['XML_ATTRIBUTE_TOO_LARGE']);
    expect(codes(`<a b="x>y"/>`)).to.deep.equal([]);
    const big = Buffer.concat([Buffer.from('<a>'), Buffer.alloc(2_000_000, 0x41), Buffer.from('</a>')]);
    expect(codes(big)).to.deep.equal(['XML_TOO_LARGE']);
    expect(parseConferenceInfo(big, { limits: { xmlDocumentBytes: 3_000_000 } }).diagnostics.map((d) => d.code)).to.deep.equal(['CONF_WRONG_ROOT']);
  });
});
