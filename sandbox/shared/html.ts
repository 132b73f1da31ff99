// The sandboxes' browser pages (bank login, webview, Flinks Connect, Xero): one page shell, one
// look (a white card on a tinted background) and one set of headers; each provider brings its
// colours, its form controls and its content.

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);

/** Headers of every page: never cached, and nothing runs or loads but the page's own inline style. */
export const PAGE_HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
} as const;

/** A provider's colours and sizes on the shared page look (CSS values, e.g. `#f3f5f8`, `24rem`). */
export interface PageTheme {
  background: string;
  text: string;
  /** The card's width (default `24rem`) and corner radius (default `8px`). */
  width?: string;
  radius?: string;
  /** The heading's font size, and its colour when not the text's. */
  heading: { size: string; color?: string };
  /** The rules of the page's own controls (inputs, buttons…), one CSS rule an item. */
  controls: readonly string[];
}

/** The rule for a full-width text input below its label (`selector` default `input`). */
export const inputRule = (selector = 'input'): string => `${selector} { width: 100%; box-sizing: border-box; padding: .5rem; margin-top: .25rem; }`;

/** A row of equal buttons: the primary `#approve` in `accent`, the `secondary` ones (default `#deny`) in grey. */
export const decisionButtonRules = (accent: string, secondary = '#deny'): string[] => [
  '.actions { display: flex; gap: .75rem; margin-top: 1.5rem; }',
  'button { flex: 1; padding: .6rem; border: 0; border-radius: 4px; cursor: pointer; }',
  `#approve { background: ${accent}; color: #fff; }`,
  `${secondary} { background: #e6e8eb; }`,
];

/** The stylesheet of the shared page look in `theme`: body, card, heading, labels, the theme's controls, `.error` and `.note`. */
export function pageStyle(theme: PageTheme): string {
  const rules = [
    `body { font-family: system-ui, sans-serif; background: ${theme.background}; color: ${theme.text}; margin: 0; }`,
    `main { max-width: ${theme.width ?? '24rem'}; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: ${theme.radius ?? '8px'}; box-shadow: 0 1px 4px #0002; }`,
    `h1 { font-size: ${theme.heading.size}; margin-top: 0;${theme.heading.color ? ` color: ${theme.heading.color};` : ''} }`,
    'label { display: block; margin-top: 1rem; font-weight: 600; }',
    ...theme.controls,
    '.error { color: #b42318; }',
    '.note { font-size: .85rem; color: #5b6475; }',
  ];
  return `\n${rules.map((rule) => `  ${rule}\n`).join('')}`;
}

/** Renders whole HTML documents styled by `style`: a page's `content` (already escaped) goes in its `<main>`. */
export const pageShell =
  (style: string, lang = 'en') =>
  (title: string, content: string): string => `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${style}</style>
</head>
<body>
<main>
${content}
</main>
</body>
</html>
`;

/** An error page in a provider's page look: a heading and the message. */
export const errorPage = (page: (title: string, content: string) => string, title: string, heading: string, message: string): string =>
  page(title, `<h1>${escapeHtml(heading)}</h1>\n<p class="error">${escapeHtml(message)}</p>`);

/** The `role="alert"` paragraph a form page shows above its form, or nothing. */
export const alertOf = (error: string | undefined): string => (error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(error)}</p>`);
