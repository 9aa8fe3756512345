// A customer's look-alikes (same name, email or phone, among those the reader may see),
// found when asked, and merged into the customer shown: it is kept, the other's contacts and
// follow-ups move to it, its empty fields are filled, and the other goes to the trash
// (restorable). A merge is confirmed in a second step, naming both.
import { html, useState } from "./vendor/htm-3.1.1/preact-standalone.module.js";
import { api } from "./api.js";
import { t } from "./i18n.js";
import { problemText } from "./ui.js";

export function Duplicates({ customer, contacts, onMerged }) {
  const [found, setFound] = useState(null);
  const [merging, setMerging] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function look() {
    // By its name, and by each of its contacts' email and phone (one question each, at once).
    const questions = [{ name: customer.name }, ...contacts.flatMap((contact) => [
      contact.email && { email: contact.email }, contact.phone && { phone: contact.phone }])
      .filter(Boolean)];
    try {
      const answers = await Promise.all(questions.map((question) =>
        api.get("/customers/duplicates", question)));
      const byId = new Map();
      for (const match of answers.flatMap((answer) => answer.items)) {
        if (match.customer.id === customer.id) continue;
        const seen = byId.get(match.customer.id);
        byId.set(match.customer.id, { customer: match.customer,
          matched: [...new Set([...(seen?.matched || []), ...match.matched])] });
      }
      setFound([...byId.values()]);
      setError(null);
    } catch (failed) {
      setError(failed);
    }
  }
  async function merge(other) {
    setBusy(true);
    try {
      await api.post(`/customers/${encodeURIComponent(customer.id)}/merge`,
        { from_id: other.id, version: customer.version });
      setMerging(null);
      setFound(null);
      setError(null);
      onMerged();
    } catch (failed) {
      setError(failed);
    } finally {
      setBusy(false);
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
            ? html`<button type="button" disabled=${busy} onClick=${() => merge(other)}>
                ${t("merge.confirm", { other: other.name, kept: customer.name })}</button>
              <button type="button" class="link" onClick=${() => setMerging(null)}>
                ${t("cancel")}</button>`
            : html`<button type="button" class="link"
                aria-label=${t("merge.into_named", { other: other.name })}
                onClick=${() => setMerging(other.id)}>${t("merge.into")}</button>`}</div>
        </li>`)}</ul>`}
    ${error && html`<p class="error" role="alert">${problemText(error)}</p>`}`;
}
