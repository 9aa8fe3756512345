// The in-app inbox: notifications newest first, the unread ones marked, read one by one or
// all at once. The header's unread count hears of it at once ("crm:unread-changed").
import { html, useState } from "./vendor/htm-3.1.1/preact-standalone.module.js";
import { api } from "./api.js";
import { formatDateTime, t } from "./i18n.js";
import { problemText, Status, useLoad } from "./ui.js";

export const UNREAD_CHANGED = "crm:unread-changed";

function link(notification) {
  if (notification.entity_type === "customer") return `#/customers/${notification.entity_id}`;
  if (notification.entity_type === "lead") return `#/leads/${notification.entity_id}`;
  if (notification.entity_type === "deal") return "#/pipeline";
  return null;
}

export function Inbox() {
  const [state, reload] = useLoad(() => api.get("/notifications", { per_page: 50 }), []);
  const [error, setError] = useState(null);
  async function mark(path) {
    try {
      await api.post(path);
      setError(null);
      dispatchEvent(new Event(UNREAD_CHANGED));
      reload();
    } catch (failed) {
      setError(failed);
    }
  }
  return html`<section>
    <div class="title-row">
      <h1>${t("inbox.title")}</h1>
      <button type="button" onClick=${() => mark("/notifications/read-all")}>${t("inbox.read_all")}</button>
    </div>
    <${Status} state=${state} />
    ${error && html`<p class="error" role="alert">${problemText(error)}</p>`}
    ${state.data && (state.data.items.length === 0 ? html`<p class="muted">${t("inbox.empty")}</p>`
      : html`<ul class="cards">${state.data.items.map((notification) => html`<li
          class=${notification.read_at ? "read" : "unread"}>
        <div>${!notification.read_at && html`<span class="visually-hidden">${t("inbox.unread")}: </span>`}
          ${link(notification) ? html`<a href=${link(notification)}><strong>${notification.title}</strong></a>`
            : html`<strong>${notification.title}</strong>`}</div>
        ${notification.body && html`<p class="notes">${notification.body}</p>`}
        <span class="muted">${formatDateTime(notification.created_at)}</span>
        ${!notification.read_at && html` <button type="button" class="link"
          onClick=${() => mark(`/notifications/${encodeURIComponent(notification.id)}/read`)}
          aria-label=${t("inbox.mark_named", { title: notification.title })}>${t("inbox.mark")}</button>`}
      </li>`)}</ul>`)}
  </section>`;
}
