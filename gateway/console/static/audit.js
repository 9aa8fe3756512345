// The audit trail (admins): sign-ins, sessions, users, teams and API keys, newest first;
// narrowed to one kind of action. Actions are shown as the API names them (login.failed...),
// the names the operations guide and the logs use.
import { html, useState } from "./vendor/htm-3.1.1/preact-standalone.module.js";
import { api } from "./api.js";
import { formatDateTime, t } from "./i18n.js";
import { Status, useLoad } from "./ui.js";

const KINDS = ["login.", "logout", "refresh.", "user.", "team.", "api_key."];

export function AuditTrail() {
  const [kind, setKind] = useState("");
  const [state] = useLoad(() => api.get("/audit", { per_page: 50, action: kind }), [kind]);
  return html`<section aria-labelledby="audit-title">
    <h2 id="audit-title">${t("audit.title")}</h2>
    <div class="field inline-form">
      <label for="audit-kind">${t("audit.kind")}</label>
      <select id="audit-kind" value=${kind} onChange=${(event) => setKind(event.target.value)}>
        <option value="">${t("audit.all")}</option>
        ${KINDS.map((prefix) => html`<option value=${prefix}>${prefix.replace(/\.$/, "")}</option>`)}
      </select>
    </div>
    <${Status} state=${state} />
    ${state.data && (state.data.items.length === 0 ? html`<p class="muted">${t("audit.none")}</p>`
      : html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t("table.region")}><table>
        <thead><tr><th scope="col">${t("audit.when")}</th><th scope="col">${t("audit.action")}</th>
          <th scope="col">${t("audit.who")}</th><th scope="col">${t("audit.target")}</th>
          <th scope="col">${t("audit.address")}</th></tr></thead>
        <tbody>${state.data.items.map((entry) => html`<tr>
          <td>${formatDateTime(entry.occurred_at)}</td><td>${entry.action}</td>
          <td>${entry.actor_name || t("none")}${entry.actor_role && html`<div class="muted">
            ${t(`role.${entry.actor_role}`)}</div>`}</td>
          <td>${entry.target_type ? t(`audit.target.${entry.target_type}`) : t("none")}</td>
          <td>${entry.address || t("none")}</td>
        </tr>`)}</tbody></table></div>`)}
  </section>`;
}
