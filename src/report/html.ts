/**
 * A tiny tagged template for building HTML: interpolated strings are escaped, arrays are joined,
 * and only fragments already built by `html` (or explicitly marked `trustedHtml`, e.g. SVG that
 * vega produced) pass through unescaped. Data such as class names and captions come from the
 * user's folders and must never be able to inject markup.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Fragment = SafeHtml | string | number | null | undefined | false | readonly Fragment[];

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function render(fragment: Fragment): string {
  if (fragment instanceof SafeHtml) return fragment.value;
  if (Array.isArray(fragment)) return fragment.map(render).join('');
  if (fragment === null || fragment === undefined || fragment === false) return '';
  return escapeHtml(String(fragment));
}

export function html(strings: TemplateStringsArray, ...values: Fragment[]): SafeHtml {
  let out = strings[0];
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1];
  });
  return new SafeHtml(out);
}

export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
