/**
 * Typed HTML templating with escaping by default: `html\`<b>${text}</b>\`` escapes `text`;
 * a nested `html` fragment, or an array of them, is inserted as markup. Client bytes reach the
 * report only through here, so a client that sends `<script>` in a header shows it as text.
 */
export class Html {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Markup that is already safe (the report's own CSS and script). */
export function trusted(markup: string): Html {
  return new Html(markup);
}

/** A fragment id from any text: letters, digits, `-`, `_` and `.` kept, the rest as `_xx`. */
export function anchorId(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`);
}
