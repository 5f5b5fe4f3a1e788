/**
 * Types for the one drachtio-srf module the SIP parse comparison calls (the package ships no
 * declarations for it). `lazy` keeps header values as strings; otherwise To/From/Via/CSeq/Contact
 * and the other known headers are parsed into objects.
 */
declare module 'drachtio-srf/lib/sip-parser/parser.js' {
  interface DrachtioSipMessage {
    method?: string;
    uri?: string;
    status?: number;
    reason?: string;
    version: string;
    headers: Record<string, unknown>;
    body: string;
  }
  const parser: {
    parseSipMessage(text: string | Buffer, lazy: boolean): DrachtioSipMessage | undefined;
  };
  export default parser;
}
