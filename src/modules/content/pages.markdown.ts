import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';

/**
 * Markdown → safe HTML for everything authored outside the code: CMS pages, catalogue
 * descriptions, Markdown documentation (DESIGN §8). Raw HTML in the source is allowed
 * through the same allow-list, so `<script>`, event handlers, `javascript:` and
 * `data:` URLs, inline styles, forms and iframes never reach the browser.
 */
const marked = new Marked({ gfm: true, breaks: false, async: false });

const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: [
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'p',
    'br',
    'hr',
    'blockquote',
    'pre',
    'code',
    'kbd',
    'samp',
    'em',
    'strong',
    'del',
    's',
    'sup',
    'sub',
    'small',
    'mark',
    'a',
    'img',
    'ul',
    'ol',
    'li',
    'dl',
    'dt',
    'dd',
    'table',
    'thead',
    'tbody',
    'tfoot',
    'tr',
    'th',
    'td',
    'caption',
    'details',
    'summary',
    'span',
    'div',
    'input',
  ],
  allowedAttributes: {
    a: ['href', 'title', 'rel', 'target'],
    img: ['src', 'alt', 'title', 'width', 'height'],
    code: ['class'],
    th: ['align', 'colspan', 'rowspan'],
    td: ['align', 'colspan', 'rowspan'],
    ol: ['start'],
    // GitHub task lists render as disabled checkboxes.
    input: ['type', 'checked', 'disabled'],
  },
  allowedClasses: { code: [/^language-[\w+-]+$/] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https'] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  exclusiveFilter: (frame) => frame.tag === 'input' && frame.attribs.type !== 'checkbox',
  transformTags: {
    a: (tagName, attribs) => ({
      tagName,
      attribs: /^https?:/i.test(attribs.href ?? '')
        ? { ...attribs, rel: 'noopener noreferrer nofollow', target: '_blank' }
        : attribs,
    }),
    input: (tagName, attribs) => ({ tagName, attribs: { ...attribs, disabled: 'disabled' } }),
  },
};

/** Renders Markdown (GitHub flavour) to sanitised HTML, safe to print unescaped. */
export function renderMarkdown(markdown: string): string {
  const html = marked.parse(markdown ?? '') as string;
  return sanitizeHtml(html, SANITIZE);
}

/** Sanitises HTML that did not come from Markdown, with the same allow-list. */
export function sanitizeHtmlFragment(html: string): string {
  return sanitizeHtml(html, SANITIZE);
}
