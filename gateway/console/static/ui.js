// What every screen shares: errors in the reader's language, loading, labelled fields.
import { html, useEffect, useState } from "./vendor/htm-3.1.1/preact-standalone.module.js";
import { ApiError } from "./api.js";
import { t } from "./i18n.js";

// What went wrong, in the reader's language (the API answers in it).
export function problemText(error) {
  if (error instanceof ApiError) return error.message;
  return t("error.network");
}

// Field errors of a 400 answer, by field.
export function fieldErrors(error) {
  return (error instanceof ApiError && error.problem.errors) || {};
}

export function useLoad(load, deps) {
  const [state, setState] = useState({ loading: true });
  const reload = () => load().then((data) => setState({ data }),
    (error) => setState({ error }));
  useEffect(() => { setState({ loading: true }); reload(); }, deps);
  return [state, reload];
}

// A change a screen makes: its failure kept to be shown, and on success what follows (a
// reload, most often). ``change(request)`` answers the request's answer, or undefined.
export function useChange(onChanged) {
  const [error, setError] = useState(null);
  async function change(request) {
    try {
      const answer = await request();
      setError(null);
      if (onChanged) onChanged(answer);
      return answer;
    } catch (failed) {
      setError(failed);
      return undefined;
    }
  }
  return [error, change];
}

// A change refused because the record changed meanwhile: said, with the way on (a reload).
export function StaleVersion({ error, onReload }) {
  return html`<div class="warning" role="alert">
    <p>${problemText(error)}</p>
    <p>${t("customer.stale")}</p>
    <button type="button" onClick=${onReload}>${t("customer.reload")}</button>
  </div>`;
}

export function Status({ state }) {
  if (state.loading) return html`<p class="muted" role="status">${t("loading")}</p>`;
  if (state.error) return html`<p class="error" role="alert">${problemText(state.error)}</p>`;
  return null;
}

// Field errors no field of the form shows (``tags.0``, a field the form lacks): listed, so
// none is lost.
export function OtherErrors({ errors, shown }) {
  const others = Object.entries(errors).filter(([field]) => !shown.includes(field));
  if (others.length === 0) return null;
  return html`<ul class="error" role="alert">${others.map(([field, messages]) =>
    html`<li>${field}: ${messages.join(" ")}</li>`)}</ul>`;
}

// What a form says when its request failed: field errors no field shows, else, when no field
// is to blame, the problem itself.
export function FormErrors({ error, shown }) {
  const errors = fieldErrors(error);
  if (Object.keys(errors).length) return html`<${OtherErrors} errors=${errors} shown=${shown} />`;
  return error ? html`<p class="error" role="alert">${problemText(error)}</p>` : null;
}

export function Field({ id, label, errors, children }) {
  const messages = errors?.[id] || [];
  return html`<div class="field ${messages.length ? "invalid" : ""}">
    <label for=${id}>${label}</label>
    ${children}
    ${messages.map((message) => html`<p class="field-error" id=${`${id}-error`}>${message}</p>`)}
  </div>`;
}

export const PER_PAGE = 20;

// A list's address with its filters, search and page (those given).
export function listUrl(list, params) {
  const given = Object.entries(params).filter(([, value]) => value);
  return `#/${list}${given.length ? `?${new URLSearchParams(given)}` : ""}`;
}

// A list's search box: searching shows the list's first page for the words given (its other
// filters kept).
export function SearchBox({ list, params, label }) {
  function search(event) {
    event.preventDefault();
    const text = new FormData(event.target).get("q").trim();
    location.hash = listUrl(list, { ...params, q: text, page: "" });
  }
  return html`<form class="search" role="search" onSubmit=${search}>
    <label for="q" class="visually-hidden">${label}</label>
    <input id="q" name="q" type="search" value=${params.q || ""} placeholder=${label} />
    <button type="submit">${t("customers.search_button")}</button>
  </form>`;
}

// A list's pages: previous, where we are, next (the search and filters kept).
export function Pager({ list, params, page, total }) {
  const pages = Math.max(1, Math.ceil(total / PER_PAGE));
  const goTo = (target) => listUrl(list, { ...params, page: target });
  return html`<nav class="pager" aria-label=${t("page", { page, pages })}>
    ${page > 1 && html`<a href=${goTo(page - 1)}>${t("previous")}</a>`}
    <span>${t("page", { page, pages })}</span>
    ${page < pages && html`<a href=${goTo(page + 1)}>${t("next")}</a>`}
  </nav>`;
}
