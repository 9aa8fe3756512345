// A customer's field history (its own fields, its contacts' and its follow-ups'): who
// changed what, from what to what, and when; read when opened, newest first.
import { html, useState } from "./vendor/htm-3.1.1/preact-standalone.module.js";
import { api } from "./api.js";
import { formatDateTime, t } from "./i18n.js";
import { Status } from "./ui.js";

const shown = (value) => (value === null || value === undefined || value === "" ? t("none")
  : typeof value === "string" ? value : JSON.stringify(value));

function Change({ change }) {
  const what = t(`history.entity.${change.entity_type}`);
  const said = change.action === "updated" && change.field
    ? html`${what} · <strong>${change.field}</strong>: ${shown(change.old_value)} → ${shown(change.new_value)}`
    : html`${what} · ${t(`history.action.${change.action}`)}${change.action === "merged"
        ? html` (${shown(change.new_value)})` : ""}`;
  return html`<li>
    <div>${said}</div>
    <div class="muted">${formatDateTime(change.changed_at)} · ${t(`role.${change.actor_role}`)}</div>
  </li>`;
}

export function History({ customerId }) {
  const [state, setState] = useState(null);
  function opened(event) {
    if (!event.target.open || state) return;
    setState({ loading: true });
    api.get(`/customers/${encodeURIComponent(customerId)}/history`, { per_page: 50 })
      .then((data) => setState({ data }), (error) => setState({ error }));
  }
  return html`<details class="history" onToggle=${opened}>
    <summary>${t("history.title")}</summary>
    ${state && !state.data && html`<${Status} state=${state} />`}
    ${state?.data && (state.data.items.length === 0
      ? html`<p class="muted">${t("history.none")}</p>`
      : html`<ol class="timeline">${state.data.items.map((change) =>
          html`<${Change} key=${change.id} change=${change} />`)}</ol>`)}
  </details>`;
}
