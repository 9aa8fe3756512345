// A deal: what it sells (its lines, which make its amount), its quotes (made from the lines,
// then sent, accepted or rejected) and its contracts (from the deal once won). Every change
// is the API's, with the version it was made on: a change over a newer one is explained.
import { html } from "./vendor/htm-3.1.1/preact-standalone.module.js";
import { api } from "./api.js";
import { formatDateTime, formatMoney, formatNumber, t } from "./i18n.js";
import {
  Field, fieldErrors, FormErrors, problemText, StaleVersion, Status, useChange, useLoad,
} from "./ui.js";

const at = (id) => `/deals/${encodeURIComponent(id)}`;
const percent = (rate) => `${formatNumber(Number(rate) * 100)}%`;
const rateOf = (text) => (text ? String(Number(text) / 100) : "0");  // "10" (%) -> "0.1"

// A line as the API takes it back: the same product, quantity, price and discount.
const asInput = (line) => ({ product_id: line.product_id, quantity: line.quantity,
  unit_price: line.unit_price, discount: line.discount });

export function DealDetail({ id }) {
  const [state, reload] = useLoad(() => Promise.all([
    api.get(at(id)),
    api.get(`${at(id)}/quotes`, { per_page: 50 }),
    api.get("/contracts", { deal_id: id, per_page: 50 }),
    api.get("/products", { per_page: 200 }),
    api.get("/pipeline/stages"),
  ]), [id]);
  if (!state.data) return html`<section><${Status} state=${state} /></section>`;
  const [deal, quotes, contracts, products, pipeline] = state.data;
  const stage = pipeline.stages.find((candidate) => candidate.key === deal.stage);
  return html`<section>
    <h1>${deal.title}</h1>
    <dl class="facts">
      <dt>${t("deal.customer")}</dt>
      <dd><a href=${`#/customers/${deal.customer_id}`}>${t("deal.open_customer")}</a></dd>
      <dt>${t("deal.stage")}</dt><dd>${stage ? stage.name : deal.stage}
        ${deal.status !== deal.stage && html`<span class="muted">
          (${t(`deal.status.${deal.status}`)})</span>`}</dd>
      <dt>${t("deal.amount")}</dt><dd>${formatMoney(deal.amount, deal.currency)}</dd>
      <dt>${t("deal.expected_close")}</dt><dd>${deal.expected_close_date || t("none")}</dd>
      ${deal.lost_reason && html`<dt>${t("deal.lost_reason")}</dt>
        <dd class="notes">${deal.lost_reason}</dd>`}
    </dl>
    <${Lines} deal=${deal} products=${products.items} onChanged=${reload} />
    <${Quotes} deal=${deal} quotes=${quotes.items} onChanged=${reload} />
    <${Contracts} deal=${deal} contracts=${contracts.items} onChanged=${reload} />
  </section>`;
}

// A failed change: a newer version is explained with a reload, anything else said as is.
function ChangeError({ error, onReload }) {
  if (!error) return null;
  if (error.status === 409 || error.status === 412) {
    return html`<${StaleVersion} error=${error} onReload=${onReload} />`;
  }
  return html`<p class="error" role="alert">${problemText(error)}</p>`;
}

function Lines({ deal, products, onChanged }) {
  const [error, change] = useChange(onChanged);
  const named = (productId) => products.find((product) => product.id === productId);
  const open = deal.status === "open";
  const setLines = (lines) => change(() => api.patch(at(deal.id), { lines, version: deal.version }));
  function add(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const line = { product_id: form.get("product_id"), quantity: form.get("quantity"),
      discount: rateOf(form.get("discount")) };
    setLines([...deal.lines.map(asInput), line]);
  }
  const errors = fieldErrors(error);
  return html`<h2>${t("deal.lines")}</h2>
    ${deal.lines.length === 0 ? html`<p class="muted">${t("deal.no_lines")}</p>`
      : html`<div class="table-wrap" role="region" aria-label=${t("deal.lines")} tabindex="0">
        <table><thead><tr>
          <th scope="col">${t("deal.product")}</th><th scope="col">${t("deal.quantity")}</th>
          <th scope="col">${t("deal.unit_price")}</th><th scope="col">${t("deal.discount")}</th>
          <th scope="col">${t("deal.line_amount")}</th>${open && html`<th scope="col"><span
            class="visually-hidden">${t("deal.remove")}</span></th>`}
        </tr></thead><tbody>${deal.lines.map((line, index) => {
          const product = named(line.product_id);
          const label = product ? `${product.name} (${product.sku})` : line.product_id;
          return html`<tr>
            <td>${label}</td><td>${formatNumber(line.quantity)}</td>
            <td>${formatMoney(line.unit_price, deal.currency)}</td><td>${percent(line.discount)}</td>
            <td>${formatMoney(line.amount, deal.currency)}</td>
            ${open && html`<td><button type="button" class="link"
              aria-label=${t("deal.remove_named", { name: label })}
              onClick=${() => setLines(deal.lines.filter((_, other) => other !== index)
                .map(asInput))}>${t("deal.remove")}</button></td>`}
          </tr>`;
        })}</tbody></table></div>`}
    ${open ? html`<form class="inline-form" onSubmit=${add}>
        <${Field} id="product_id" label=${t("deal.product")} errors=${errors}>
          <select id="product_id" name="product_id" required>
            ${products.filter((product) => product.active && product.currency === deal.currency)
              .map((product) => html`<option value=${product.id}>${`${product.name} (${product.sku}), ${
                formatMoney(product.list_price, product.currency)}`}</option>`)}
          </select>
        <//>
        <${Field} id="quantity" label=${t("deal.quantity")} errors=${errors}>
          <input id="quantity" name="quantity" inputmode="decimal" value="1" required />
        <//>
        <${Field} id="discount" label=${t("deal.discount_percent")} errors=${errors}>
          <input id="discount" name="discount" inputmode="decimal" />
        <//>
        <button type="submit">${t("deal.add_line")}</button>
      </form>`
      : html`<p class="muted">${t("deal.frozen")}</p>`}
    ${Object.keys(errors).length ? html`<${FormErrors} error=${error}
        shown=${["product_id", "quantity", "discount"]} />`
      : html`<${ChangeError} error=${error} onReload=${onChanged} />`}`;
}

const NEXT_STEPS = { draft: ["sent"], sent: ["accepted", "rejected"] };

function Quotes({ deal, quotes, onChanged }) {
  const [error, change] = useChange(onChanged);
  function create(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    change(() => api.post(`${at(deal.id)}/quotes`, { valid_until: form.get("valid_until"),
      tax_rate: rateOf(form.get("tax_rate")) }));
  }
  const step = (quote, status) => change(() => api.patch(
    `/quotes/${encodeURIComponent(quote.id)}`, { status, version: quote.version }));
  const errors = fieldErrors(error);
  return html`<h2>${t("deal.quotes")}</h2>
    ${quotes.length === 0 ? html`<p class="muted">${t("deal.no_quotes")}</p>`
      : html`<div class="table-wrap" role="region" aria-label=${t("deal.quotes")} tabindex="0">
        <table><thead><tr>
          <th scope="col">${t("deal.number")}</th><th scope="col">${t("field.status")}</th>
          <th scope="col">${t("deal.valid_until")}</th><th scope="col">${t("deal.total")}</th>
          <th scope="col">${t("deal.actions")}</th>
        </tr></thead><tbody>${quotes.map((quote) => html`<tr>
          <td>${quote.number}</td><td>${t(`quote.status.${quote.status}`)}</td>
          <td>${quote.valid_until}</td><td>${formatMoney(quote.total, quote.currency)}</td>
          <td>${(NEXT_STEPS[quote.status] || []).map((status) => html`<button type="button"
              class="link" aria-label=${t(`quote.do.${status}_named`, { number: quote.number })}
              onClick=${() => step(quote, status)}>${t(`quote.do.${status}`)}</button> `)}</td>
        </tr>`)}</tbody></table></div>`}
    ${deal.status === "open" && html`<form class="inline-form" onSubmit=${create}>
      <${Field} id="valid_until" label=${t("deal.valid_until")} errors=${errors}>
        <input id="valid_until" name="valid_until" type="date" required />
      <//>
      <${Field} id="tax_rate" label=${t("deal.tax_percent")} errors=${errors}>
        <input id="tax_rate" name="tax_rate" inputmode="decimal" />
      <//>
      <button type="submit">${t("deal.new_quote")}</button>
    </form>`}
    ${Object.keys(errors).length ? html`<${FormErrors} error=${error}
        shown=${["valid_until", "tax_rate"]} />`
      : html`<${ChangeError} error=${error} onReload=${onChanged} />`}`;
}

function Contracts({ deal, contracts, onChanged }) {
  const [error, change] = useChange(onChanged);
  function create(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    change(() => api.post("/contracts", { deal_id: deal.id, start_date: form.get("start_date"),
      end_date: form.get("end_date") }));
  }
  const errors = fieldErrors(error);
  return html`<h2>${t("deal.contracts")}</h2>
    ${contracts.length === 0 ? html`<p class="muted">${t("deal.no_contracts")}</p>`
      : html`<ul class="cards">${contracts.map((contract) => html`<li>
          <strong>${contract.number}</strong>
          <span class="muted"> ${t(`contract.status.${contract.status}`)}</span>
          <div>${contract.start_date} – ${contract.end_date}</div>
          <div>${formatMoney(contract.amount, contract.currency)}</div>
          <div class="muted">${formatDateTime(contract.created_at)}</div>
        </li>`)}</ul>`}
    ${deal.status === "won" ? html`<form class="inline-form" onSubmit=${create}>
        <${Field} id="start_date" label=${t("deal.start_date")} errors=${errors}>
          <input id="start_date" name="start_date" type="date" required />
        <//>
        <${Field} id="end_date" label=${t("deal.end_date")} errors=${errors}>
          <input id="end_date" name="end_date" type="date" required />
        <//>
        <button type="submit">${t("deal.new_contract")}</button>
      </form>`
      : html`<p class="muted">${t("deal.contract_when_won")}</p>`}
    <${FormErrors} error=${error} shown=${["start_date", "end_date"]} />`;
}
