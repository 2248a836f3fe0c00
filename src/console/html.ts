/**
 * @module console/html
 * The console's page shell and small HTML helpers: escaped by default, no external resources
 * (it runs offline), one stylesheet inline, one tiny script (`/console/app.js`) for the copy
 * buttons and the delete confirmation as progressive enhancement.
 */

export const esc = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;background:#f6f7f9}
a{color:#0b5cad}
header{background:#17324d;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;align-items:center}
header a{color:#fff;text-decoration:none;padding:.2rem .3rem;border-radius:4px}
header a[aria-current=page]{background:#2c5282}
header .who{margin-left:auto;font-size:.85rem;opacity:.9;overflow-wrap:anywhere}
header form{display:inline}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.4rem 0 1rem}
table{width:100%;border-collapse:collapse;background:#fff}
th,td{text-align:left;padding:.45rem .5rem;border-bottom:1px solid #e2e5ea;vertical-align:top}
td code,dd code{overflow-wrap:anywhere;word-break:break-all;font-size:.85rem}
.card{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:1rem;margin:0 0 1rem}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:999px;font-size:.8rem;font-weight:600}
.AVAILABLE{background:#d8f3dc;color:#1b5e20}.PENDING{background:#fff3cd;color:#7a5300}
.ERROR,.VPC_CONFIG_FAILED_INITIALIZATION{background:#fde2e1;color:#8a1c1c}
.VPC_CONFIG_INITIALIZING,.VPC_CONFIG_DELETING,.InProgress,.Stopping{background:#e3ecfa;color:#1c3f8a}
.Succeeded{background:#d8f3dc;color:#1b5e20}.Failed{background:#fde2e1;color:#8a1c1c}
.Stopped,.Superseded,.Abandoned,.Cancelled{background:#eceef1;color:#3d4550}
pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85rem;margin:0}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}
input[type=text],input[type=password],input[type=url],input[type=search],select,textarea{font:inherit;width:100%;max-width:32rem;padding:.4rem;border:1px solid #9aa4b2;border-radius:4px;background:#fff}
textarea{min-height:5rem}
button,.button{font:inherit;padding:.4rem 1rem;border-radius:6px;border:1px solid #17324d;background:#17324d;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary,.button.secondary{background:#fff;color:#17324d}
button.danger{background:#a32020;border-color:#a32020}
button:disabled{opacity:.5;cursor:not-allowed}
:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.error{color:#a32020}.field-error{color:#a32020;font-size:.9rem;margin:.2rem 0}
.flash{padding:.6rem 1rem;border-radius:6px;margin:0 0 1rem}.flash.ok{background:#d8f3dc}.flash.bad{background:#fde2e1}
.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end;margin:0 0 1rem}
.filters label{margin:0}.filters select,.filters input{width:auto;min-width:10rem}
.muted{color:#5a6472}.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.6rem 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}dt{font-weight:600}dd{margin:0;min-width:0}
fieldset{border:1px solid #dde1e7;border-radius:6px;margin:.6rem 0;padding:.4rem .8rem;max-width:40rem}
.pager{display:flex;gap:1rem;margin:1rem 0}
@media (max-width:600px){
  table.list thead{display:none}
  table.list tr{display:block;border-bottom:1px solid #dde1e7;padding:.4rem 0}
  table.list td{display:block;border:0;padding:.1rem .5rem}
  table.list td::before{content:attr(data-label) ": ";font-weight:600}
  dl{grid-template-columns:1fr}
  header .who{margin-left:0}
}
`

export interface Shell {
  title: string
  /** Which nav item is current. */
  nav?: 'connections' | 'pipelines' | 'hosts' | 'settings'
  /** Signed-in principal and the CSRF token for the sign-out form. */
  user?: { arn: string; csrf: string }
  flash?: { kind: 'ok' | 'bad'; text: string }
}

export function page(s: Shell, body: string): string {
  const link = (key: Shell['nav'], href: string, text: string) =>
    `<a href="${href}"${s.nav === key ? ' aria-current="page"' : ''}>${text}</a>`
  const header = s.user
    ? `<header><strong>Junction</strong><nav aria-label="Main">${link('connections', '/console', 'Connections')} ${link('pipelines', '/console/pipelines', 'Pipelines')} ${link('hosts', '/console/hosts', 'Hosts')} ${link('settings', '/console/settings', 'Settings')}</nav>
<span class="who">${esc(s.user.arn)}</span>
<form method="post" action="/console/signout"><input type="hidden" name="csrf" value="${esc(s.user.csrf)}"><button class="secondary" type="submit">Sign out</button></form></header>`
    : `<header><strong>Junction</strong></header>`
  const flash = s.flash
    ? `<p class="flash ${s.flash.kind}" role="${s.flash.kind === 'bad' ? 'alert' : 'status'}">${esc(s.flash.text)}</p>`
    : ''
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(s.title)} – Junction</title><style>${CSS}</style><script src="/console/app.js" defer></script></head>
<body>${header}<main id="main">${flash}${body}</main></body></html>`
}

export const badge = (status: string): string =>
  `<span class="badge ${esc(status)}">${esc(status)}</span>`

export const hidden = (name: string, value: string): string =>
  `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`

/** The copy button (works with the script; the value stays selectable without it). */
export const copyable = (value: string): string =>
  `<code>${esc(value)}</code> <button type="button" class="secondary copy" data-copy="${esc(value)}" aria-label="Copy ${esc(value)}">Copy</button>`

export const APP_JS = `
document.addEventListener('click', (e) => {
  const b = e.target.closest('button.copy');
  if (!b) return;
  navigator.clipboard?.writeText(b.dataset.copy).then(() => { b.textContent = 'Copied'; setTimeout(() => (b.textContent = 'Copy'), 1500) });
});
document.addEventListener('input', (e) => {
  const i = e.target.closest('input[data-confirm]');
  if (!i) return;
  const btn = i.form.querySelector('button[type=submit]');
  if (btn) btn.disabled = i.value !== i.dataset.confirm;
});
`
