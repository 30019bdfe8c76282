// Switchboard's mark, for pages the server renders itself (the Swagger UI). The web pages in
// web/ carry the same drawing as web/favicon.svg.

const mark = (x: number, y: number) =>
  `<g transform="translate(${x} ${y})"><rect width="32" height="32" rx="7" fill="#2b6cb0"/>` +
  `<path d="M9 10h6v4H9zm8 8h6v4h-6z" fill="#fff"/><path d="M12 14v4c0 2 1 3 3 3h2M20 18v-4c0-2-1-3-3-3h-2" stroke="#fff" stroke-width="2" fill="none"/></g>`;

/** The mark alone: the favicon. */
export const markSvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">${mark(0, 0)}</svg>`;

/** The mark and the name in white, for a dark top bar. */
export const wordmarkSvg =
  `<svg xmlns="http://www.w3.org/2000/svg" width="190" height="40" viewBox="0 0 190 40">${mark(0, 4)}` +
  `<text x="42" y="28" font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="20" font-weight="600" fill="#fff">Switchboard</text></svg>`;
