// The console's screens. Each is a function of its route's parameters that loads what it
// shows in one round of parallel API calls, and renders with htm: every value is put in the
// page as text, never as markup.
import { html, useState } from "./vendor/htm-3.1.1/preact-standalone.module.js";
import { api, ApiError, download, signIn } from "./api.js";
import { Duplicates } from "./duplicates.js";
import { History } from "./history.js";
import { formatDateTime, formatMoney, t } from "./i18n.js";
import {
  Field, fieldErrors, FormErrors, listUrl, Pager, PER_PAGE, problemText, SearchBox,
  StaleVersion, Status, useLoad,
} from "./ui.js";

const TIERS = ["A", "B", "C"];
const STATUSES = ["prospect", "active", "dormant", "churned"];
const ACTIVITY_TYPES = ["call", "visit", "meeting", "email", "note"];

export function SignIn({ onSignedIn }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    setBusy(true);
    try {
      await signIn(form.get("username"), form.get("password"));
      await onSignedIn();
    } catch (failed) {
      setError(failed);
    } finally {
      setBusy(false);
    }
  }
  return html`<main class="sign-in">
    <h1>${t("sign_in.title")}</h1>
    <form onSubmit=${submit}>
      <${Field} id="username" label=${t("username")}>
        <input id="username" name="username" autocomplete="username" required />
      <//>
      <${Field} id="password" label=${t("password")}>
        <input id="password" name="password" type="password" autocomplete="current-password"
          required />
      <//>
      ${error && html`<p class="error" role="alert">${problemText(error)}</p>`}
      <button type="submit" disabled=${busy}>${t("sign_in")}</button>
    </form>
  </main>`;
}

// Reminders grouped: overdue, due today, later (today as the reader's clock has it).
function reminderGroups(reminders) {
  const now = new Date();
  const endOfToday = new Date(now);
  endOfToday.setHours(23, 59, 59, 999);
  const groups = { overdue: [], today: [], later: [] };
  for (const reminder of reminders) {
    const due = new Date(reminder.due_at);
    groups[due < now ? "overdue" : due <= endOfToday ? "today" : "later"].push(reminder);
  }
  return groups;
}

const optional = (promise) => promise.catch(() => null);  // a tile the role may not read
const CLOSED_STAGES = ["won", "lost"];
// The console's page of what a reminder is about (a contract has none of its own).
const ENTITY_PAGES = { customer: "customers", deal: "deals", lead: "leads" };

export function Home() {
  const monthStart = new Date();
  monthStart.setDate(1);
  const from = monthStart.toISOString().slice(0, 10);
  const [state] = useLoad(() => Promise.all([
    api.get("/reminders", { status: "pending", per_page: 50, sort: "due_at" }),
    optional(api.get("/pipeline/board", { per_stage: 1 })),
    optional(api.get("/reports/revenue", { from, period: "month" })),
    optional(api.get("/reports/win-rate", { from })),
  ]), []);
  if (!state.data) return html`<section><h1>${t("home.title")}</h1><${Status} state=${state} /></section>`;
  const [reminders, board, revenue, winRate] = state.data;
  const open = board?.stages.filter((stage) => !CLOSED_STAGES.includes(stage.key) && stage.count);
  const groups = reminderGroups(reminders.items);
  const wonThisMonth = revenue?.totals?.won_amount;
  const rate = winRate?.totals?.win_rate;
  return html`<section>
    <h1>${t("home.title")}</h1>
    ${(wonThisMonth !== undefined || rate !== undefined) && html`<div class="tiles">
      ${wonThisMonth !== undefined && html`<a class="tile" href="#/reports/revenue">
        <span class="muted">${t("home.won_month")}</span>
        <strong>${formatMoney(wonThisMonth, revenue.currency)}</strong></a>`}
      ${rate !== undefined && rate !== null && html`<a class="tile" href="#/reports/win-rate">
        <span class="muted">${t("home.win_rate")}</span>
        <strong>${Math.round(Number(rate) * 100)}%</strong></a>`}
    </div>`}
    <h2>${t("home.reminders")}</h2>
    ${reminders.items.length === 0 && html`<p class="muted">${t("home.none")}</p>`}
    ${["overdue", "today", "later"].filter((group) => groups[group].length).map((group) => html`
      <h3 class=${group === "overdue" ? "error" : ""}>${t(`home.${group}`)} (${groups[group].length})</h3>
      <ul class="cards">${groups[group].map((reminder) => {
        const text = reminder.subject || t(`reminder.kind.${reminder.kind}`);
        const page = ENTITY_PAGES[reminder.entity_type];
        return html`<li>
          ${page ? html`<a href=${`#/${page}/${reminder.entity_id}`}>${text}</a>` : text}
          <span class="muted"> ${t("home.due")} ${formatDateTime(reminder.due_at)}</span>
        </li>`;
      })}</ul>`)}
    ${open && html`
      <h2>${t("home.deals")}</h2>
      <ul class="stages">${open.map((stage) => html`<li><a href="#/pipeline">${stage.name}</a>
          <span>${stage.count}</span>
          <span class="muted">${stage.totals.map((sum) => formatMoney(sum.amount, sum.currency))
            .join(" · ")}</span></li>`)}</ul>
      ${open.length === 0 && html`<p class="muted">${t("home.no_deals")}</p>`}`}
  </section>`;
}

// The list's order choices (the API's sort) and filters, kept in the address.
const SORTS = ["-updated_at", "name", "-created_at", "city"];
const FILTERS = { status: STATUSES, tier: TIERS };

function CustomerFilters({ params }) {
  const choose = (name) => (event) => {
    location.hash = listUrl("customers", { ...params, [name]: event.target.value, page: "" });
  };
  return html`<div class="inline-form filters">
    ${Object.entries(FILTERS).map(([name, values]) => html`<div class="field">
      <label for=${`filter-${name}`}>${t(`field.${name}`)}</label>
      <select id=${`filter-${name}`} value=${params[name] || ""} onChange=${choose(name)}>
        <option value="">${t("customers.any")}</option>
        ${values.map((value) => html`<option value=${value}>
          ${name === "status" ? t(`status.${value}`) : value}</option>`)}
      </select></div>`)}
    <div class="field"><label for="sort">${t("customers.sort")}</label>
      <select id="sort" value=${params.sort || SORTS[0]} onChange=${choose("sort")}>
        ${SORTS.map((sort) => html`<option value=${sort}>${t(`customers.sort.${sort}`)}</option>`)}
      </select></div>
  </div>`;
}

export function CustomerList({ query }) {
  const params = Object.fromEntries(["q", "status", "tier", "sort"].map((name) =>
    [name, query.get(name) || ""]));
  const page = Number(query.get("page") || 1);
  const filters = { q: params.q, status: params.status, tier: params.tier };
  const [state] = useLoad(() => api.get("/customers", {
    ...filters, page, per_page: PER_PAGE, sort: params.sort || SORTS[0],
  }), [query.toString()]);
  return html`<section>
    <div class="title-row">
      <h1>${t("customers.title")}</h1>
      <div class="actions">
        <a href="#/customers/trash">${t("customer.trash")}</a>
        <button type="button" class="link"
          onClick=${() => download("/customers/export", { ...filters, format: "csv" })}>
          ${t("customers.export")}</button>
        <a class="button" href="#/customers/new">${t("customers.new")}</a>
      </div>
    </div>
    <${SearchBox} list="customers" params=${params} label=${t("customers.search")} />
    <${CustomerFilters} params=${params} />
    <${Status} state=${state} />
    ${state.data && html`
      <p class="muted" aria-live="polite">${t("customers.count", { total: state.data.total })}</p>
      ${state.data.items.length === 0 ? html`<p>${t("customers.none")}</p>` : html`
      <div class="table-wrap" tabindex="0" role="region" aria-label=${t("table.region")}><table>
        <thead><tr>
          <th scope="col">${t("field.name")}</th><th scope="col">${t("field.city")}</th>
          <th scope="col">${t("field.tier")}</th><th scope="col">${t("field.status")}</th>
          <th scope="col">${t("field.updated_at")}</th>
        </tr></thead>
        <tbody>${state.data.items.map((customer) => html`<tr>
          <td><a href=${`#/customers/${customer.id}`}>${customer.name}</a></td>
          <td>${customer.city || t("none")}</td><td>${customer.tier || t("none")}</td>
          <td>${t(`status.${customer.status}`)}</td>
          <td>${formatDateTime(customer.updated_at)}</td>
        </tr>`)}</tbody>
      </table></div>`}
      <${Pager} list="customers" params=${params} page=${page} total=${state.data.total} />`}
  </section>`;
}

// A customer's fields, blank (new) or as ``initial`` holds them (edit). ``save(body)``
// creates or changes it and goes on; the errors it throws are shown here: beside the
// fields, duplicates with links, a stale version explained with a reload.
function CustomerForm({ initial = {}, title, save, cancel, onReload }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = { name: form.get("name"), type: form.get("type"), status: form.get("status"),
      tier: form.get("tier") || null,
      tags: form.get("tags").split(",").map((tag) => tag.trim()).filter(Boolean) };
    for (const key of ["industry", "city", "notes"]) {
      const value = form.get(key).trim();
      if (value || initial[key]) body[key] = value || null;
    }
    if (form.get("allow_duplicate")) body.allow_duplicate = true;
    setBusy(true);
    try {
      await save(body);
    } catch (failed) {
      setError(failed);
    } finally {
      setBusy(false);
    }
  }
  const errors = fieldErrors(error);
  const matches = error instanceof ApiError && error.status === 409 && error.problem.matches;
  const stale = error instanceof ApiError && error.status === 409 && !matches;
  const value = (key) => initial[key] ?? "";
  return html`<section>
    <h1>${title}</h1>
    <form class="form" onSubmit=${submit} novalidate>
      <${Field} id="name" label=${t("field.name")} errors=${errors}>
        <input id="name" name="name" required maxlength="200" value=${value("name")}
          aria-invalid=${errors.name ? "true" : "false"} />
      <//>
      <${Field} id="type" label=${t("field.type")} errors=${errors}>
        <select id="type" name="type" value=${value("type") || "company"}>
          <option value="company">${t("type.company")}</option>
          <option value="person">${t("type.person")}</option>
        </select>
      <//>
      <${Field} id="industry" label=${t("field.industry")} errors=${errors}>
        <input id="industry" name="industry" value=${value("industry")} />
      <//>
      <${Field} id="city" label=${t("field.city")} errors=${errors}>
        <input id="city" name="city" value=${value("city")} />
      <//>
      <${Field} id="tier" label=${t("field.tier")} errors=${errors}>
        <select id="tier" name="tier" value=${value("tier")}>
          <option value="">${t("none")}</option>
          ${TIERS.map((tier) => html`<option value=${tier}>${tier}</option>`)}
        </select>
      <//>
      <${Field} id="status" label=${t("field.status")} errors=${errors}>
        <select id="status" name="status" value=${value("status") || "prospect"}>
          ${STATUSES.map((status) => html`<option value=${status}>${t(`status.${status}`)}</option>`)}
        </select>
      <//>
      <${Field} id="tags" label=${t("field.tags")} errors=${errors}>
        <input id="tags" name="tags" value=${(initial.tags || []).join(", ")} />
      <//>
      <${Field} id="notes" label=${t("field.notes")} errors=${errors}>
        <textarea id="notes" name="notes" rows="3" value=${value("notes")}></textarea>
      <//>
      ${matches && html`<div class="warning" role="alert">
        <p>${t("duplicate.title")}</p>
        <ul>${matches.map((match) => html`<li>
          <a href=${`#/customers/${match.id}`}>${match.name}</a></li>`)}</ul>
        <label class="check"><input type="checkbox" name="allow_duplicate" value="1" /> ${t("duplicate.anyway")}</label>
      </div>`}
      ${stale && html`<${StaleVersion} error=${error}
        onReload=${() => { setError(null); onReload(); }} />`}
      <${FormErrors} error=${matches || stale ? null : error}
        shown=${["name", "type", "industry", "city", "tier", "status", "tags", "notes"]} />
      <div class="actions">
        <button type="submit" disabled=${busy}>${initial.id ? t("save") : t("create")}</button>
        <a href=${cancel}>${t("cancel")}</a>
      </div>
    </form>
  </section>`;
}

export function CustomerNew() {
  return html`<${CustomerForm} title=${t("customer.new")} cancel="#/customers"
    save=${async (body) => {
      const created = await api.post("/customers", body);
      location.hash = `#/customers/${created.id}`;
    }} />`;
}

export function CustomerEdit({ id }) {
  const path = `/customers/${encodeURIComponent(id)}`;
  const [state, reload] = useLoad(() => api.get(path), [id]);
  if (!state.data) return html`<section><${Status} state=${state} /></section>`;
  const customer = state.data;
  return html`<${CustomerForm} key=${customer.version} initial=${customer}
    title=${t("customer.edit_title", { name: customer.name })} cancel=${`#/customers/${id}`}
    onReload=${reload}
    save=${async (body) => {
      await api.patch(path, { ...body, version: customer.version });
      location.hash = `#/customers/${id}`;
    }} />`;
}

export function CustomerTrash() {
  const [state, reload] = useLoad(() => api.get("/customers/trash", { per_page: 50 }), []);
  const [error, setError] = useState(null);
  async function restore(customer) {
    try {
      await api.post(`/customers/${encodeURIComponent(customer.id)}/restore`);
      location.hash = `#/customers/${customer.id}`;
    } catch (failed) {
      setError(failed);
      reload();
    }
  }
  return html`<section>
    <h1>${t("customer.trash")}</h1>
    <${Status} state=${state} />
    ${error && html`<p class="error" role="alert">${problemText(error)}</p>`}
    ${state.data && (state.data.items.length === 0 ? html`<p class="muted">${t("customer.trash_empty")}</p>`
      : html`<ul class="cards">${state.data.items.map((customer) => html`<li>
          <strong>${customer.name}</strong>
          <span class="muted"> ${formatDateTime(customer.deleted_at)}</span>
          <div><button type="button" onClick=${() => restore(customer)}
            aria-label=${t("customer.restore_named", { name: customer.name })}>${t("customer.restore")}</button></div>
        </li>`)}</ul>`)}
  </section>`;
}

export function CustomerDetail({ id }) {
  const [state, reload] = useLoad(() => Promise.all([
    api.get(`/customers/${encodeURIComponent(id)}`),
    api.get(`/customers/${encodeURIComponent(id)}/contacts`, { per_page: 50 }),
    api.get(`/customers/${encodeURIComponent(id)}/activities`, { per_page: 50, sort: "-occurred_at" }),
    api.get("/deals", { customer_id: id, per_page: 50, sort: "-updated_at" }),
  ]), [id]);
  const [trashError, setTrashError] = useState(null);
  if (!state.data) return html`<section><${Status} state=${state} /></section>`;
  const [customer, contacts, activities, deals] = state.data;
  async function moveToTrash() {
    try {
      await api.delete(`/customers/${encodeURIComponent(id)}`);
      location.hash = "#/customers/trash";
    } catch (failed) {
      setTrashError(failed);
    }
  }
  return html`<section>
    <div class="title-row">
      <h1>${customer.name}</h1>
      <div class="actions">
        <a class="button" href=${`#/customers/${id}/edit`}>${t("customer.edit")}</a>
        <button type="button" class="link" onClick=${moveToTrash}>${t("customer.to_trash")}</button>
      </div>
    </div>
    ${trashError && html`<p class="error" role="alert">${problemText(trashError)}</p>`}
    <dl class="facts">
      <dt>${t("field.type")}</dt><dd>${t(`type.${customer.type}`)}</dd>
      <dt>${t("field.status")}</dt><dd>${t(`status.${customer.status}`)}</dd>
      <dt>${t("field.tier")}</dt><dd>${customer.tier || t("none")}</dd>
      <dt>${t("field.industry")}</dt><dd>${customer.industry || t("none")}</dd>
      <dt>${t("field.city")}</dt><dd>${customer.city || t("none")}</dd>
      <dt>${t("field.tag_list")}</dt><dd>${customer.tags.join(", ") || t("none")}</dd>
      <dt>${t("field.notes")}</dt><dd class="notes">${customer.notes || t("none")}</dd>
    </dl>
    <h2>${t("customer.contacts")}</h2>
    ${contacts.items.length === 0 ? html`<p class="muted">${t("customer.no_contacts")}</p>`
      : html`<ul class="cards">${contacts.items.map((contact) => html`<li>
          <strong>${contact.name}</strong> ${contact.title && html`<span class="muted">${contact.title}</span>`}
          ${contact.phone && html`<div><a href=${`tel:${contact.phone}`}>${contact.phone}</a></div>`}
          ${contact.email && html`<div><a href=${`mailto:${contact.email}`}>${contact.email}</a></div>`}
        </li>`)}</ul>`}
    <h2>${t("customer.deals")}</h2>
    ${deals.items.length === 0 ? html`<p class="muted">${t("customer.no_deals")}</p>`
      : html`<ul class="cards">${deals.items.map((deal) => html`<li>
          <a href=${`#/deals/${deal.id}`}>${deal.title}</a>
          <span class="muted"> ${t(`deal.status.${deal.status}`)}</span>
          <div>${formatMoney(deal.amount, deal.currency)}</div>
        </li>`)}</ul>`}
    <${NewDeal} customerId=${id} />
    <${Duplicates} customer=${customer} contacts=${contacts.items} onMerged=${reload} />
    <h2>${t("customer.timeline")}</h2>
    <${LogActivity} customerId=${id} onLogged=${reload} />
    ${activities.items.length === 0 ? html`<p class="muted">${t("customer.no_activities")}</p>`
      : html`<ol class="timeline">${activities.items.map((activity) => html`<li>
          <div><strong>${t(`activity.${activity.type}`)}</strong>
            <span class="muted"> ${formatDateTime(activity.occurred_at)}</span></div>
          <p class="notes">${activity.content}</p>
          ${activity.next_follow_up_at && html`<p class="muted">
            ${t("activity.next_at", { when: formatDateTime(activity.next_follow_up_at) })}</p>`}
        </li>`)}</ol>`}
    <${History} key=${customer.version} customerId=${id} />
  </section>`;
}

// A deal opened with this customer, at the pipeline's first stage: its page comes next.
function NewDeal({ customerId }) {
  const [error, setError] = useState(null);
  async function submit(event) {
    event.preventDefault();
    try {
      const deal = await api.post("/deals", { customer_id: customerId,
        title: new FormData(event.target).get("title") });
      location.hash = `#/deals/${deal.id}`;
    } catch (failed) {
      setError(failed);
    }
  }
  return html`<form class="inline-form" onSubmit=${submit}>
    <${Field} id="deal-title" label=${t("deal.title")} errors=${{ "deal-title": fieldErrors(error).title }}>
      <input id="deal-title" name="title" required />
    <//>
    <button type="submit">${t("customer.new_deal")}</button>
    <${FormErrors} error=${error} shown=${["title"]} />
  </form>`;
}

function LogActivity({ customerId, onLogged }) {
  const [error, setError] = useState(null);
  const [done, setDone] = useState(false);
  async function submit(event) {
    event.preventDefault();
    const formElement = event.target;
    const form = new FormData(formElement);
    const body = { type: form.get("type"), content: form.get("content") };
    if (form.get("next_follow_up_at")) {
      body.next_follow_up_at = new Date(form.get("next_follow_up_at")).toISOString();
    }
    try {
      await api.post(`/customers/${encodeURIComponent(customerId)}/activities`, body);
      formElement.reset();
      setError(null);
      setDone(true);
      onLogged();
    } catch (failed) {
      setDone(false);
      setError(failed);
    }
  }
  const errors = fieldErrors(error);
  return html`<form class="form log-activity" onSubmit=${submit} novalidate>
    <fieldset>
      <legend>${t("activity.log")}</legend>
      <${Field} id="activity-type" label=${t("activity.type")}>
        <select id="activity-type" name="type">
          ${ACTIVITY_TYPES.map((type) => html`<option value=${type}>${t(`activity.${type}`)}</option>`)}
        </select>
      <//>
      <${Field} id="content" label=${t("activity.content")} errors=${errors}>
        <textarea id="content" name="content" rows="2" required></textarea>
      <//>
      <${Field} id="next_follow_up_at" label=${t("activity.next")} errors=${errors}>
        <input id="next_follow_up_at" name="next_follow_up_at" type="datetime-local" />
      <//>
      <${FormErrors} error=${error} shown=${["content", "next_follow_up_at"]} />
      ${done && html`<p class="success" role="status">${t("activity.logged")}</p>`}
      <button type="submit">${t("activity.submit")}</button>
    </fieldset>
  </form>`;
}
