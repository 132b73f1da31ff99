// The page shell of the sandboxes' browser pages (bank login, webview, Flinks Connect, Xero):
// each provider brings its own style and content.

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);

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
