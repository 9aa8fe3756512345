// The console's shell: who is signed in, the navigation, the language, and which screen the
// address (#/...) shows. A reload signs back in silently from the session's cookie.
import { html, render, useEffect, useState } from "./vendor/htm-3.1.1/preact-standalone.module.js";
import { api, refresh, signOut, whenSessionEnds } from "./api.js";
import { currentLanguage, LANGUAGES, setLanguage, setTimeZone, t } from "./i18n.js";
import { Admin } from "./admin.js";
import { DealDetail } from "./deal.js";
import { Import } from "./imports.js";
import { Inbox, UNREAD_CHANGED } from "./inbox.js";
import { LeadDetail, LeadList, LeadNew } from "./leads.js";
import { Pipeline } from "./pipeline.js";
import { Reports } from "./reports.js";
import {
  CustomerDetail, CustomerEdit, CustomerList, CustomerNew, CustomerTrash, Home, SignIn,
} from "./screens.js";

function route(hash) {
  const [path, search] = hash.replace(/^#/, "").split("?");
  const query = new URLSearchParams(search || "");
  const parts = path.split("/").filter(Boolean);
  if (parts.length === 0) return html`<${Home} />`;
  if (parts[0] === "customers") {
    if (parts.length === 1) return html`<${CustomerList} query=${query} />`;
    if (parts[1] === "new") return html`<${CustomerNew} />`;
    if (parts[1] === "trash") return html`<${CustomerTrash} />`;
    if (parts[2] === "edit") return html`<${CustomerEdit} id=${parts[1]} />`;
    return html`<${CustomerDetail} id=${parts[1]} />`;
  }
  if (parts[0] === "leads") {
    if (parts.length === 1) return html`<${LeadList} query=${query} />`;
    if (parts[1] === "new") return html`<${LeadNew} />`;
    return html`<${LeadDetail} id=${parts[1]} />`;
  }
  if (parts[0] === "pipeline") return html`<${Pipeline} />`;
  if (parts[0] === "deals" && parts[1]) return html`<${DealDetail} id=${parts[1]} />`;
  if (parts[0] === "reports") return html`<${Reports} name=${parts[1]} query=${query} />`;
  if (parts[0] === "admin") return html`<${Admin} />`;
  if (parts[0] === "import") return html`<${Import} />`;
  if (parts[0] === "inbox") return html`<${Inbox} />`;
  return html`<p>${t("not_found")}</p>`;
}

function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return hash;
}

function UnreadCount() {
  const [count, setCount] = useState(null);
  useEffect(() => {
    const load = () => api.get("/notifications/unread-count")
      .then((data) => setCount(data.count), () => {});
    load();
    const timer = setInterval(load, 15000);
    addEventListener(UNREAD_CHANGED, load);
    return () => { clearInterval(timer); removeEventListener(UNREAD_CHANGED, load); };
  }, []);
  if (count === null) return null;
  const label = t("unread_count", { count });  // begins with what it shows
  return html`<a class="badge" href="#/inbox" aria-label=${label} title=${label}>${count}</a>`;
}

function Shell({ user, onSignOut, onLanguage }) {
  const hash = useHash();
  const current = (prefix) => (hash.replace(/^#/, "") || "/").split("?")[0] === prefix
    || (prefix !== "/" && hash.startsWith(`#${prefix}`)) ? "page" : undefined;
  return html`<div class="shell">
    <a class="skip" href="#main">${t("nav.main")}</a>
    <header>
      <a class="brand" href="#/">${t("app")}</a>
      <nav aria-label=${t("nav.main")}>
        <a href="#/" aria-current=${current("/")}>${t("nav.home")}</a>
        <a href="#/customers" aria-current=${current("/customers")}>${t("nav.customers")}</a>
        <a href="#/leads" aria-current=${current("/leads")}>${t("nav.leads")}</a>
        <a href="#/pipeline" aria-current=${current("/pipeline")}>${t("nav.pipeline")}</a>
        <a href="#/reports" aria-current=${current("/reports")}>${t("nav.reports")}</a>
        <a href="#/import" aria-current=${current("/import")}>${t("nav.import")}</a>
        ${user?.role === "admin"
          && html`<a href="#/admin" aria-current=${current("/admin")}>${t("nav.admin")}</a>`}
      </nav>
      <div class="user">
        <${UnreadCount} />
        <span class="muted">${user?.display_name}</span>
        <label for="language" class="visually-hidden">${t("language")}</label>
        <select id="language" value=${currentLanguage()}
          onChange=${(event) => onLanguage(event.target.value)}>
          ${LANGUAGES.map(([code, name]) => html`<option value=${code}>${name}</option>`)}
        </select>
        <button type="button" class="link" onClick=${onSignOut}>${t("sign_out")}</button>
      </div>
    </header>
    <main id="main" tabindex="-1">${route(hash)}</main>
  </div>`;
}

// Signed in, the shell and the screen start at once: the screen's data and who the user is
// (/me) load side by side, so no screen waits on more than the session's refresh and one
// round of calls.
function App() {
  const [session, setSession] = useState(undefined);  // undefined: not known yet; false: none
  const [user, setUser] = useState(null);
  const [, setLanguageShown] = useState(currentLanguage());
  const [notice, setNotice] = useState(null);

  function start() { setSession(true); }
  useEffect(() => {  // after the screen's own loads have started (children's effects first)
    if (session) api.get("/me").then((me) => { setTimeZone(me.timezone); setUser(me); }, () => {});
  }, [session]);
  useEffect(() => {
    whenSessionEnds(() => { setNotice(t("error.session")); setSession(false); setUser(null); });
    refresh().then((signedIn) => (signedIn ? start() : setSession(false)))
      .catch(() => setSession(false));
  }, []);

  if (session === undefined) return html`<p class="loading">${t("loading")}</p>`;
  if (!session) {
    return html`${notice && html`<p class="error" role="alert">${notice}</p>`}
      <${SignIn} onSignedIn=${() => { setNotice(null); start(); }} />`;
  }
  return html`<${Shell} user=${user}
    onLanguage=${(code) => { setLanguage(code); setLanguageShown(code); }}
    onSignOut=${async () => { await signOut(); setSession(false); setUser(null); }} />`;
}

render(html`<${App} />`, document.getElementById("app"));
