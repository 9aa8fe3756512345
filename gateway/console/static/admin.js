// Administration (admins): users (create, change role and team, deactivate), teams, the
// pipeline's stages and the teams' lead assignment rules (setup.js), API keys (create, the key shown once, revoke), webhooks with
// their delivery log (webhooks.js) and the audit trail (audit.js). The API decides who may:
// a non-admin sees its 403.
import { html, useEffect, useState } from "./vendor/htm-3.1.1/preact-standalone.module.js";
import { api } from "./api.js";
import { formatDateTime, t } from "./i18n.js";
import { fieldErrors, problemText } from "./ui.js";
import { AuditTrail } from "./audit.js";
import { AssignmentRules, PipelineStages, Teams } from "./setup.js";
import { Webhooks } from "./webhooks.js";

const ROLES = ["sales", "manager", "analyst", "admin"];
const SCOPES = ["customers", "contacts", "activities", "leads", "deals", "products", "pipeline",
  "quotes", "contracts", "webhooks", "imports"].flatMap((what) => [`${what}:read`, `${what}:write`]);

function Errors({ error, field }) {
  const messages = fieldErrors(error)[field] || [];
  return messages.map((text) => html`<p class="field-error">${text}</p>`);
}

// A user's role and team, changed together and saved at once.
function RoleAndTeam({ user, teams, onSaved, onFailed }) {
  async function save(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      await api.patch(`/users/${encodeURIComponent(user.id)}`, { role: form.get("role"),
        team_id: form.get("team_id") || null, version: user.version });
      onSaved();
    } catch (failed) {
      onFailed(failed);
    }
  }
  return html`<form class="inline-form" onSubmit=${save}
      aria-label=${t("admin.change_named", { name: user.username })}>
    <select name="role" aria-label=${t("admin.role")} value=${user.role}>
      ${ROLES.map((role) => html`<option value=${role}>${t(`role.${role}`)}</option>`)}</select>
    <select name="team_id" aria-label=${t("admin.team")} value=${user.team_id || ""}>
      <option value="">${t("none")}</option>
      ${teams.map((team) => html`<option value=${team.id}>${team.name}</option>`)}</select>
    <button type="submit">${t("save")}</button>
  </form>`;
}

// The users and teams the page's sections share (users, teams, assignment rules): fetched
// once, and again after any section changes one, so that a team just made is offered for a
// user, and a user just made a manager for a team.
function useDirectory() {
  const [directory, setDirectory] = useState(null);
  const reload = () => Promise.all([api.get("/users", { per_page: 200 }),
    api.get("/teams", { per_page: 200 })])
    .then(([users, teams]) => setDirectory({ users: users.items, teams: teams.items }),
      (failed) => setDirectory({ error: failed }));
  useEffect(() => { reload(); }, []);
  return [directory, reload];
}

function Users({ directory: state, onChanged: load }) {
  const [error, setError] = useState(null);
  const [created, setCreated] = useState(null);
  const [editing, setEditing] = useState(null);  // the user whose role and team are open
  async function create(event) {
    event.preventDefault();
    const formElement = event.target;
    const form = new FormData(formElement);
    const body = { username: form.get("new-username"), password: form.get("new-password"),
      display_name: form.get("display_name") || undefined, role: form.get("role") };
    if (form.get("team_id")) body.team_id = form.get("team_id");
    try {
      const user = await api.post("/users", body);
      formElement.reset();
      setError(null);
      setCreated(user.username);
      load();
    } catch (failed) {
      setError(failed);
    }
  }
  async function deactivate(user) {
    try {
      await api.patch(`/users/${encodeURIComponent(user.id)}`, { active: !user.active, version: user.version });
      load();
    } catch (failed) {
      setError(failed);
    }
  }
  if (!state) return html`<p class="muted" role="status">${t("loading")}</p>`;
  if (state.error) return html`<p class="error" role="alert">${problemText(state.error)}</p>`;
  const teamName = Object.fromEntries(state.teams.map((team) => [team.id, team.name]));
  return html`<section aria-labelledby="users-title">
    <h2 id="users-title">${t("admin.users")}</h2>
    <div class="table-wrap" tabindex="0" role="region" aria-label=${t("table.region")}><table>
      <thead><tr><th scope="col">${t("username")}</th><th scope="col">${t("admin.role")}</th>
        <th scope="col">${t("admin.team")}</th><th scope="col">${t("admin.last_login")}</th>
        <th scope="col">${t("admin.active")}</th></tr></thead>
      <tbody>${state.users.map((user) => html`<tr>
        <td>${user.username}<div class="muted">${user.display_name}</div></td>
        ${editing === user.id ? html`<td colspan="2"><${RoleAndTeam} user=${user}
            teams=${state.teams} onFailed=${setError}
            onSaved=${() => { setEditing(null); setError(null); load(); }} /></td>`
          : html`<td>${t(`role.${user.role}`)}</td><td>${teamName[user.team_id] || t("none")}
            <button type="button" class="link" onClick=${() => setEditing(user.id)}
              aria-label=${t("admin.change_named", { name: user.username })}>
              ${t("customer.edit")}</button></td>`}
        <td>${formatDateTime(user.last_login_at)}</td>
        <td><button type="button" class="link" onClick=${() => deactivate(user)}
          aria-label=${t(user.active ? "admin.deactivate" : "admin.activate", { name: user.username })}>
          ${t(user.active ? "admin.deactivate_short" : "admin.activate_short")}</button></td>
      </tr>`)}</tbody>
    </table></div>
    <form class="form" onSubmit=${create} novalidate>
      <fieldset><legend>${t("admin.new_user")}</legend>
        <div class="field"><label for="new-username">${t("username")}</label>
          <input id="new-username" name="new-username" autocomplete="off" required />
          <${Errors} error=${error} field="username" /></div>
        <div class="field"><label for="display_name">${t("admin.display_name")}</label>
          <input id="display_name" name="display_name" />
          <${Errors} error=${error} field="display_name" /></div>
        <div class="field"><label for="new-password">${t("password")}</label>
          <input id="new-password" name="new-password" type="password" autocomplete="new-password" required />
          <${Errors} error=${error} field="password" /></div>
        <div class="field"><label for="role">${t("admin.role")}</label>
          <select id="role" name="role">${ROLES.map((role) => html`<option value=${role}>${t(`role.${role}`)}</option>`)}</select></div>
        <div class="field"><label for="team_id">${t("admin.team")}</label>
          <select id="team_id" name="team_id"><option value="">${t("none")}</option>
            ${state.teams.map((team) => html`<option value=${team.id}>${team.name}</option>`)}</select>
          <${Errors} error=${error} field="team_id" /></div>
        ${error && html`<p class="error" role="alert">${problemText(error)}</p>`}
        ${created && html`<p class="success" role="status">${t("admin.user_created", { name: created })}</p>`}
        <button type="submit">${t("create")}</button>
      </fieldset>
    </form>
  </section>`;
}

function ApiKeys() {
  const [keys, setKeys] = useState(null);
  const [error, setError] = useState(null);
  const [shown, setShown] = useState(null);  // the new key, shown once
  const load = () => api.get("/api-keys", { per_page: 200 }).then((page) => setKeys(page.items), setError);
  useEffect(() => { load(); }, []);
  async function create(event) {
    event.preventDefault();
    const formElement = event.target;
    const form = new FormData(formElement);
    try {
      const key = await api.post("/api-keys", { name: form.get("key-name"), scopes: form.getAll("scopes") });
      formElement.reset();
      setError(null);
      setShown(key);
      load();
    } catch (failed) {
      setError(failed);
    }
  }
  async function revoke(key) {
    try {
      await api.delete(`/api-keys/${encodeURIComponent(key.id)}`);
      load();
    } catch (failed) {
      setError(failed);
    }
  }
  return html`<section aria-labelledby="keys-title">
    <h2 id="keys-title">${t("admin.api_keys")}</h2>
    ${shown && html`<div class="warning" role="status">
      <p>${t("admin.key_once", { name: shown.name })}</p>
      <p><code class="secret">${shown.key}</code></p>
      <button type="button" onClick=${() => setShown(null)}>${t("admin.key_saved")}</button>
    </div>`}
    ${keys && html`<ul class="cards">${keys.map((key) => html`<li>
      <strong>${key.name}</strong> <span class="muted">${key.prefix}… ${formatDateTime(key.created_at)}</span>
      <div class="muted">${key.scopes.join(", ")}</div>
      ${key.revoked_at ? html`<div class="muted">${t("admin.revoked", { when: formatDateTime(key.revoked_at) })}</div>`
        : html`<button type="button" class="link" onClick=${() => revoke(key)}
            aria-label=${t("admin.revoke", { name: key.name })}>${t("admin.revoke_short")}</button>`}
    </li>`)}</ul>`}
    <form class="form" onSubmit=${create} novalidate>
      <fieldset><legend>${t("admin.new_key")}</legend>
        <div class="field"><label for="key-name">${t("admin.key_name")}</label>
          <input id="key-name" name="key-name" required />
          <${Errors} error=${error} field="name" /></div>
        <fieldset class="scopes"><legend>${t("admin.scopes")}</legend>
          ${SCOPES.map((scope) => html`<label class="check"><input type="checkbox" name="scopes" value=${scope} /> ${scope}</label>`)}
          <${Errors} error=${error} field="scopes" />
        </fieldset>
        ${error && html`<p class="error" role="alert">${problemText(error)}</p>`}
        <button type="submit">${t("create")}</button>
      </fieldset>
    </form>
  </section>`;
}

export function Admin() {
  const [directory, reloadDirectory] = useDirectory();
  return html`<section>
    <h1>${t("admin.title")}</h1>
    <${Users} directory=${directory} onChanged=${reloadDirectory} />
    <${Teams} directory=${directory} onChanged=${reloadDirectory} />
    <${PipelineStages} />
    <${AssignmentRules} directory=${directory} />
    <${ApiKeys} />
    <${Webhooks} />
    <${AuditTrail} />
  </section>`;
}
