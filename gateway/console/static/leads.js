// Leads: the list (search, status, paging), capture (duplicates warned), and one lead's page:
// its status, its owner (a manager gives it to a member of the team), and its conversion
// into a customer, its primary contact and a deal in one step.
import { html, useEffect, useState } from "./vendor/htm-3.1.1/preact-standalone.module.js";
import { api, ApiError, download } from "./api.js";
import { formatDateTime, t } from "./i18n.js";
import {
  Field, fieldErrors, FormErrors, OtherErrors, Pager, PER_PAGE, problemText, SearchBox, Status,
  useLoad,
} from "./ui.js";

const STATUSES = ["new", "working", "qualified", "disqualified"];
export function LeadList({ query }) {
  const q = query.get("q") || "";
  const page = Number(query.get("page") || 1);
  const [state] = useLoad(() => api.get("/leads", { q, page, per_page: PER_PAGE,
    sort: "-created_at" }), [q, page]);
  return html`<section>
    <div class="title-row">
      <h1>${t("leads.title")}</h1>
      <div class="actions">
        <button type="button" class="link"
          onClick=${() => download("/leads/export", { ...(q && { q }), format: "csv" })}>
          ${t("customers.export")}</button>
        <a class="button" href="#/leads/new">${t("leads.new")}</a>
      </div>
    </div>
    <${SearchBox} list="leads" params=${{ q }} label=${t("leads.search")} />
    <${Status} state=${state} />
    ${state.data && html`
      ${state.data.items.length === 0 ? html`<p>${t("leads.none")}</p>` : html`
      <div class="table-wrap" tabindex="0" role="region" aria-label=${t("table.region")}><table>
        <thead><tr><th scope="col">${t("field.name")}</th><th scope="col">${t("lead.company")}</th>
          <th scope="col">${t("field.status")}</th><th scope="col">${t("lead.created")}</th></tr></thead>
        <tbody>${state.data.items.map((lead) => html`<tr>
          <td><a href=${`#/leads/${lead.id}`}>${lead.name}</a></td>
          <td>${lead.company || t("none")}</td><td>${t(`lead.status.${lead.status}`)}</td>
          <td>${formatDateTime(lead.created_at)}</td></tr>`)}</tbody>
      </table></div>`}
      <${Pager} list="leads" params=${{ q }} page=${page} total=${state.data.total} />`}
  </section>`;
}

export function LeadNew() {
  const [error, setError] = useState(null);
  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = {};
    for (const key of ["name", "company", "phone", "email", "source", "city", "notes"]) {
      if (form.get(key).trim()) body[key] = form.get(key).trim();
    }
    if (form.get("allow_duplicate")) body.allow_duplicate = true;
    try {
      const lead = await api.post("/leads", body);
      location.hash = `#/leads/${lead.id}`;
    } catch (failed) {
      setError(failed);
    }
  }
  const errors = fieldErrors(error);
  const matches = error instanceof ApiError && error.status === 409 && error.problem.matches;
  const fields = [["name", t("field.name")], ["company", t("lead.company")],
    ["phone", t("lead.phone")], ["email", t("lead.email")], ["source", t("lead.source")],
    ["city", t("field.city")]];
  return html`<section>
    <h1>${t("leads.new")}</h1>
    <form class="form" onSubmit=${submit} novalidate>
      ${fields.map(([key, label]) => html`<${Field} id=${key} label=${label} errors=${errors}>
        <input id=${key} name=${key} type=${key === "email" ? "email" : key === "phone" ? "tel" : "text"} />
      <//>`)}
      <${Field} id="notes" label=${t("field.notes")} errors=${errors}>
        <textarea id="notes" name="notes" rows="3"></textarea>
      <//>
      ${matches && html`<div class="warning" role="alert">
        <p>${t("duplicate.title")}</p>
        <ul>${matches.map((match) => html`<li>${match.name || match.company}</li>`)}</ul>
        <label class="check"><input type="checkbox" name="allow_duplicate" value="1" /> ${t("duplicate.anyway")}</label>
      </div>`}
      <${FormErrors} error=${matches ? null : error}
        shown=${[...fields.map(([key]) => key), "notes"]} />
      <div class="actions">
        <button type="submit">${t("create")}</button>
        <a href="#/leads">${t("cancel")}</a>
      </div>
    </form>
  </section>`;
}

function Owner({ lead, onChanged }) {
  const [people, setPeople] = useState(null);  // null: this caller may not list them
  const [error, setError] = useState(null);
  useEffect(() => {
    api.get("/users", { per_page: 200, active: true })
      .then((page) => setPeople(page.items), () => setPeople(null));
  }, []);
  if (!people) return null;
  async function assign(event) {
    event.preventDefault();
    try {
      await api.patch(`/leads/${encodeURIComponent(lead.id)}`, {
        owner_id: new FormData(event.target).get("owner_id"), version: lead.version });
      setError(null);
      onChanged();
    } catch (failed) {
      setError(failed);
    }
  }
  return html`<form class="inline-form" onSubmit=${assign}>
    <label for="owner_id">${t("lead.owner")}</label>
    <select id="owner_id" name="owner_id" value=${lead.owner_id || ""}>
      ${people.map((person) => html`<option value=${person.id}>${person.display_name || person.username}</option>`)}
    </select>
    <button type="submit">${t("lead.assign")}</button>
    ${error && html`<p class="error" role="alert">${problemText(error)}</p>`}
  </form>`;
}

function Convert({ lead }) {
  const [error, setError] = useState(null);
  async function convert(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const deal = { title: form.get("deal_title") };
    if (form.get("deal_amount")) deal.amount = form.get("deal_amount");
    try {
      const converted = await api.post(`/leads/${encodeURIComponent(lead.id)}/convert`, { deal });
      location.hash = `#/customers/${converted.customer_id}`;
    } catch (failed) {
      setError(failed);
    }
  }
  // The API names the deal's fields deal.title, deal.amount.
  const errors = Object.fromEntries(Object.entries(fieldErrors(error))
    .map(([field, messages]) => [field.replace(/^deal\./, "deal_"), messages]));
  return html`<form class="form" onSubmit=${convert} novalidate>
    <fieldset><legend>${t("lead.convert")}</legend>
      <p class="muted">${t("lead.convert_hint")}</p>
      <${Field} id="deal_title" label=${t("lead.deal_title")} errors=${errors}>
        <input id="deal_title" name="deal_title" value=${lead.company || lead.name} />
      <//>
      <${Field} id="deal_amount" label=${t("lead.deal_amount")} errors=${errors}>
        <input id="deal_amount" name="deal_amount" inputmode="decimal" />
      <//>
      <${OtherErrors} errors=${errors} shown=${["deal_title", "deal_amount"]} />
      ${error && Object.keys(errors).length === 0
        && html`<p class="error" role="alert">${problemText(error)}</p>`}
      <button type="submit">${t("lead.convert_button")}</button>
    </fieldset>
  </form>`;
}

export function LeadDetail({ id }) {
  const [state, reload] = useLoad(() => api.get(`/leads/${encodeURIComponent(id)}`), [id]);
  const [error, setError] = useState(null);
  if (!state.data) return html`<section><${Status} state=${state} /></section>`;
  const lead = state.data;
  async function setStatus(status) {
    try {
      await api.patch(`/leads/${encodeURIComponent(lead.id)}`, { status, version: lead.version });
      setError(null);
      reload();
    } catch (failed) {
      setError(failed);
    }
  }
  const converted = lead.status === "converted";
  return html`<section>
    <h1>${lead.name}</h1>
    <dl class="facts">
      <dt>${t("lead.company")}</dt><dd>${lead.company || t("none")}</dd>
      <dt>${t("lead.phone")}</dt><dd>${lead.phone || t("none")}</dd>
      <dt>${t("lead.email")}</dt><dd>${lead.email || t("none")}</dd>
      <dt>${t("field.city")}</dt><dd>${lead.city || t("none")}</dd>
      <dt>${t("field.status")}</dt><dd>${t(`lead.status.${lead.status}`)}</dd>
      <dt>${t("field.notes")}</dt><dd class="notes">${lead.notes || t("none")}</dd>
    </dl>
    ${converted ? html`<p><a href=${`#/customers/${lead.customer_id}`}>${t("lead.to_customer")}</a></p>`
      : html`
      <div class="field inline-form">
        <label for="lead-status">${t("field.status")}</label>
        <select id="lead-status" value=${lead.status} onChange=${(event) => setStatus(event.target.value)}>
          ${STATUSES.map((status) => html`<option value=${status}>${t(`lead.status.${status}`)}</option>`)}
        </select>
      </div>
      ${error && html`<p class="error" role="alert">${problemText(error)}</p>`}
      <${Owner} lead=${lead} onChanged=${reload} />
      <${Convert} lead=${lead} />`}
  </section>`;
}
