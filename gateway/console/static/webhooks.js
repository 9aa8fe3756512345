// Webhooks (admins): the subscriptions (a URL and the event types it hears; the signing
// secret shown once), each with its delivery log (status, attempts, the answer's code, the
// last error) and a replay of any logged delivery.
import { html, useEffect, useState } from "./vendor/htm-3.1.1/preact-standalone.module.js";
import { api } from "./api.js";
import { formatDateTime, t } from "./i18n.js";
import { Field, fieldErrors, FormErrors, problemText, useChange } from "./ui.js";

function Deliveries({ webhook }) {
  const [state, setState] = useState(null);
  const at = `/webhooks/${encodeURIComponent(webhook.id)}/deliveries`;
  const [error, change] = useChange((page) => setState(page.items));
  const load = () => change(() => api.get(at, { per_page: 20 }));
  function opened(event) {
    if (event.target.open && !state) load();
  }
  const replay = (delivery) => change(async () => {
    await api.post(`${at}/${encodeURIComponent(delivery.id)}/replay`);
    return api.get(at, { per_page: 20 });
  });
  return html`<details onToggle=${opened}>
    <summary>${t("webhooks.log")}</summary>
    ${error && html`<p class="error" role="alert">${problemText(error)}</p>`}
    ${state && (state.length === 0 ? html`<p class="muted">${t("webhooks.no_deliveries")}</p>`
      : html`<div class="table-wrap" tabindex="0" role="region"
          aria-label=${t("webhooks.log_of", { url: webhook.url })}><table>
        <thead><tr><th scope="col">${t("webhooks.event")}</th>
          <th scope="col">${t("field.status")}</th><th scope="col">${t("webhooks.attempts")}</th>
          <th scope="col">${t("webhooks.answer")}</th><th scope="col">${t("webhooks.when")}</th>
          <th scope="col">${t("deal.actions")}</th></tr></thead>
        <tbody>${state.map((delivery) => html`<tr>
          <td>${delivery.event_type}${delivery.replay_of && html`<div class="muted">
            ${t("webhooks.replayed")}</div>`}</td>
          <td>${t(`webhooks.status.${delivery.status}`)}</td><td>${delivery.attempts}</td>
          <td>${delivery.last_status_code ?? t("none")}${delivery.last_error && html`<div
            class="muted">${delivery.last_error}</div>`}</td>
          <td>${formatDateTime(delivery.delivered_at || delivery.created_at)}</td>
          <td><button type="button" class="link" onClick=${() => replay(delivery)}
            aria-label=${t("webhooks.replay_named", { event: delivery.event_type })}>
            ${t("webhooks.replay")}</button></td>
        </tr>`)}</tbody></table></div>`)}
  </details>`;
}

export function Webhooks() {
  const [webhooks, setWebhooks] = useState(null);
  const [eventTypes, setEventTypes] = useState([]);  // what a webhook may hear, the API's list
  const [secret, setSecret] = useState(null);  // the new webhook's, shown once
  const load = () => api.get("/webhooks", { per_page: 100 }).then((page) => setWebhooks(page.items));
  const [error, change] = useChange(load);  // a change, then the list again
  const [loadError, loadAll] = useChange();
  useEffect(() => {
    loadAll(() => Promise.all([load(), api.get("/webhooks/event-types")
      .then((answer) => setEventTypes(answer.items))]));
  }, []);
  async function create(event) {
    event.preventDefault();
    const formElement = event.target;
    const form = new FormData(formElement);
    const made = await change(() => api.post("/webhooks", { url: form.get("webhook-url"),
      event_types: form.getAll("event_types") }));
    if (made) {
      formElement.reset();
      setSecret(made);
    }
  }
  const toggle = (webhook) => change(() => api.patch(`/webhooks/${encodeURIComponent(webhook.id)}`,
    { active: !webhook.active, version: webhook.version }));
  const errors = { "webhook-url": fieldErrors(error).url, event_types: fieldErrors(error).event_types };
  return html`<section aria-labelledby="webhooks-title">
    <h2 id="webhooks-title">${t("webhooks.title")}</h2>
    ${loadError && html`<p class="error" role="alert">${problemText(loadError)}</p>`}
    ${secret && html`<div class="warning" role="status">
      <p>${t("webhooks.secret_once", { url: secret.url })}</p>
      <p><code class="secret">${secret.secret}</code></p>
      <button type="button" onClick=${() => setSecret(null)}>${t("admin.key_saved")}</button>
    </div>`}
    ${webhooks && (webhooks.length === 0 ? html`<p class="muted">${t("webhooks.none")}</p>`
      : html`<ul class="cards">${webhooks.map((webhook) => html`<li key=${webhook.id}>
          <strong class="url">${webhook.url}</strong>
          <span class="muted"> ${webhook.active ? t("webhooks.active") : t("webhooks.paused")}</span>
          <div class="muted">${webhook.event_types.join(", ")}</div>
          <button type="button" class="link" onClick=${() => toggle(webhook)}
            aria-label=${t(webhook.active ? "webhooks.pause_named" : "webhooks.resume_named",
              { url: webhook.url })}>
            ${t(webhook.active ? "webhooks.pause" : "webhooks.resume")}</button>
          <${Deliveries} webhook=${webhook} />
        </li>`)}</ul>`)}
    <form class="form" onSubmit=${create} novalidate>
      <fieldset><legend>${t("webhooks.new")}</legend>
        <${Field} id="webhook-url" label=${t("webhooks.url")} errors=${errors}>
          <input id="webhook-url" name="webhook-url" type="url" required />
        <//>
        <fieldset class="scopes"><legend>${t("webhooks.events")}</legend>
          ${eventTypes.map((type) => html`<label class="check">
            <input type="checkbox" name="event_types" value=${type} /> ${type}</label>`)}
          ${(errors.event_types || []).map((text) => html`<p class="field-error">${text}</p>`)}
        </fieldset>
        <${FormErrors} error=${error} shown=${["url", "event_types"]} />
        <button type="submit">${t("create")}</button>
      </fieldset>
    </form>
  </section>`;
}
