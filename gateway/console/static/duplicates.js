// A customer's look-alikes (same name, email or phone, among those the reader may see),
// found when asked, and merged into the customer shown: it is kept, the other's contacts and
// follow-ups move to it, its empty fields are filled, and the other goes to the trash
// (restorable). A merge is confirmed in a second step, naming both.
import { html, useState } from "./vendor/htm-3.1.1/preact-standalone.module.js";
import { api } from "./api.js";
import { t } from "./i18n.js";
import { problemText } from "./ui.js";

export function Duplicates({ customer, onMerged }) {
  const [found, setFound] = useState(null);
  const [merging, setMerging] = useState(null);
  const [error, setError] = useState(null);
  async function look() {
    try {
      const answer = await api.get("/customers/duplicates", { name: customer.name });
      setFound(answer.items.filter((match) => match.customer.id !== customer.id));
      setError(null);
    } catch (failed) {
      setError(failed);
    }
  }
  async function merge(other) {
    try {
      await api.post(`/customers/${encodeURIComponent(customer.id)}/merge`,
        { from_id: other.id, version: customer.version });
      setMerging(null);
      setFound(null);
      setError(null);
      onMerged();
    } catch (failed) {
      setError(failed);
    }
  }
  return html`<h2>${t("merge.title")}</h2>
    ${found === null ? html`<button type="button" onClick=${look}>${t("merge.look")}</button>`
      : found.length === 0 ? html`<p class="muted">${t("merge.none")}</p>`
      : html`<ul class="cards">${found.map(({ customer: other, matched }) => html`<li>
          <a href=${`#/customers/${other.id}`}>${other.name}</a>
          <span class="muted"> ${t("merge.matched", {
            fields: matched.map((field) => t(`merge.field.${field}`)).join(", ") })}</span>
          <div class="actions">${merging === other.id
            ? html`<button type="button" onClick=${() => merge(other)}>
                ${t("merge.confirm", { other: other.name, kept: customer.name })}</button>
              <button type="button" class="link" onClick=${() => setMerging(null)}>
                ${t("cancel")}</button>`
            : html`<button type="button" class="link"
                aria-label=${t("merge.into_named", { other: other.name })}
                onClick=${() => setMerging(other.id)}>${t("merge.into")}</button>`}</div>
        </li>`)}</ul>`}
    ${error && html`<p class="error" role="alert">${problemText(error)}</p>`}`;
}
