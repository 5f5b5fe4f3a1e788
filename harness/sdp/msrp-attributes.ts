/**
 * The RFC 4975 §8 attributes of an MSRP media description, defined once: name, the field it fills,
 * clause, a real example, how its value parses (with the diagnostic it raises) and how it is
 * written. The strict parser (parse.ts), the builders (build.ts) and the sdp-transform object
 * (grammar.ts) all read this table.
 */
import { parseMsrpUri } from '../msrp/uri.ts';

const TOKEN = "[A-Za-z0-9!#$%&'*+\\-.^_`{|}~]+";
const MEDIA_TYPE_ENTRY = new RegExp(`^(\\*|${TOKEN}/(?:\\*|${TOKEN}))$`);

/** What the attributes fill, per level. */
export interface MsrpAttributeValues {
  path: string[];
  acceptTypes: string[];
  acceptWrappedTypes: string[];
  maxSize: number;
}

export type MsrpAttributeField = keyof MsrpAttributeValues;

export interface MsrpAttributeProblem {
  code: string;
  message: string;
}

export interface MsrpAttribute<F extends MsrpAttributeField = MsrpAttributeField> {
  /** `path` in `a=path:…`. */
  readonly name: string;
  readonly field: F;
  readonly clause: string;
  /** A real value (the part after `a=<name>:`); parses without problems and formats back to itself. */
  readonly example: string;
  /** The value to store (absent when there is nothing usable) and what is wrong with it. */
  parse(value: string | undefined): { value?: MsrpAttributeValues[F]; problems: MsrpAttributeProblem[] };
  format(value: MsrpAttributeValues[F]): string;
}

/** RFC 4975 §9 `accept-types` / `accept-wrapped-types`: SP-separated media types or `*`. */
function typeList(name: string): Pick<MsrpAttribute<'acceptTypes'>, 'parse' | 'format'> {
  return {
    parse(value) {
      const entries = (value ?? '').split(' ');
      const bad = entries.filter((e) => !MEDIA_TYPE_ENTRY.test(e));
      if (bad.length === 0) return { value: entries, problems: [] };
      return {
        value: entries.filter((e) => e.length > 0),
        problems: [{ code: 'MSRP_ACCEPT_TYPES_INVALID', message: `a=${name} entries ${bad.map((b) => JSON.stringify(b)).join(', ')} are not type/subtype or "*"` }],
      };
    },
    format: (types) => types.join(' '),
  };
}

export const MSRP_ATTRIBUTES = [
  {
    // a=path:msrp://192.0.2.10:7394/pf8s3kq1;tcp
    name: 'path',
    field: 'path',
    clause: 'RFC 4975 §8.2',
    example: 'msrp://192.0.2.10:7394/pf8s3kq1;tcp',
    parse(value) {
      const uris = (value ?? '').split(' ');
      const problems: MsrpAttributeProblem[] = [];
      for (const uri of uris) {
        const r = parseMsrpUri(uri);
        if (!r.ok) for (const d of r.diagnostics) problems.push({ code: 'MSRP_PATH_INVALID', message: d.message });
      }
      return { value: uris, problems };
    },
    format: (uris) => uris.join(' '),
  } satisfies MsrpAttribute<'path'>,
  {
    // a=accept-types:message/cpim application/im-iscomposing+xml
    name: 'accept-types',
    field: 'acceptTypes',
    clause: 'RFC 4975 §8.6',
    example: 'message/cpim application/im-iscomposing+xml',
    ...typeList('accept-types'),
  } satisfies MsrpAttribute<'acceptTypes'>,
  {
    // a=accept-wrapped-types:text/plain message/imdn+xml
    name: 'accept-wrapped-types',
    field: 'acceptWrappedTypes',
    clause: 'RFC 4975 §8.6',
    example: 'text/plain message/imdn+xml',
    ...typeList('accept-wrapped-types'),
  } satisfies MsrpAttribute<'acceptWrappedTypes'>,
  {
    // a=max-size:65536
    name: 'max-size',
    field: 'maxSize',
    clause: 'RFC 4975 §8.6',
    example: '65536',
    parse(value) {
      if (value !== undefined && /^\d+$/.test(value)) return { value: Number(value), problems: [] };
      return { problems: [{ code: 'MSRP_MAX_SIZE_INVALID', message: `a=max-size value "${value ?? ''}" is not a number of octets` }] };
    },
    format: (octets) => String(octets),
  } satisfies MsrpAttribute<'maxSize'>,
] as const;

const BY_NAME: ReadonlyMap<string, MsrpAttribute> = new Map(MSRP_ATTRIBUTES.map((row) => [row.name, row as unknown as MsrpAttribute]));

/** The row for an attribute name (`path`, `max-size`, …), if it is one of RFC 4975's. */
export function msrpAttribute(name: string): MsrpAttribute | undefined {
  return BY_NAME.get(name);
}

/** `a=<name>:<value>` for one row; the builders write every MSRP attribute line through this. */
export function msrpAttributeLine<F extends MsrpAttributeField>(field: F, value: MsrpAttributeValues[F]): string {
  const row = MSRP_ATTRIBUTES.find((r) => r.field === field) as unknown as MsrpAttribute<F>;
  return `a=${row.name}:${row.format(value)}`;
}
