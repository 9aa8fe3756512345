// Reports: each of the API's reports with its filters, as a bar chart and a table, and its
// export as CSV or XLSX. The chart is SVG (attributes, no inline style: the page's policy).
import { html, useEffect, useState } from "./vendor/htm-3.1.1/preact-standalone.module.js";
import { api, download } from "./api.js";
import { formatDateTime, formatMoney, formatNumber, t } from "./i18n.js";
import { problemText } from "./ui.js";

// report -> [the filters it takes beyond from/to, the column the chart shows]
const REPORTS = {
  funnel: [[], "weighted_amount"],
  revenue: [["period", "group_by"], "won_amount"],
  "win-rate": [["group_by"], "win_rate"],
  "sales-cycle": [["group_by"], "median_days"],
  leaderboard: [[], "won_amount"],
  activities: [["period"], "count"],
  "dormant-customers": [[], "days_since"],
  forecast: [["forecast_period"], null],
};
const PERIODS = ["day", "week", "month", "quarter", "year"];
const GROUPS = { revenue: ["region", "product", "owner", "team", "industry", "tier"],
  "win-rate": ["owner", "team", "region", "product"],
  "sales-cycle": ["owner", "team", "region", "product", "industry", "tier"] };

function cell(value, column, currency) {
  if (value === null || value === undefined || value === "") return t("none");
  switch (column.type) {
    case "money": return formatMoney(value, currency);
    case "rate": return `${formatNumber(Math.round(Number(value) * 1000) / 10)}%`;
    case "integer": case "number": return formatNumber(value);
    case "datetime": return formatDateTime(value);
    default: return String(value);
  }
}

function label(column) {
  const key = `report.column.${column.key}`;
  const text = t(key);
  return text === key ? column.label : text;
}

function Chart({ report, valueKey }) {
  const value = report.columns.find((column) => column.key === valueKey)
    || report.columns.find((column) => ["money", "integer", "number", "rate"].includes(column.type)
      && !["rank", "probability"].includes(column.key));
  const name = report.columns.find((column) => column.type === "string");
  if (!value || !name || report.rows.length === 0) return null;
  const rows = report.rows.slice(0, 20);
  const largest = Math.max(...rows.map((row) => Number(row[value.key]) || 0), 1);
  const height = rows.length * 28 + 8;
  return html`<figure class="chart">
    <figcaption>${label(value)}</figcaption>
    <svg viewBox=${`0 0 600 ${height}`} role="img"
      aria-label=${`${label(value)}: ${rows.map((row) => `${row[name.key]} ${cell(row[value.key], value, report.currency)}`).join(", ")}`}>
      ${rows.map((row, index) => {
        const width = Math.max(1, (Number(row[value.key]) || 0) / largest * 320);
        const y = index * 28 + 4;
        return html`<g>
          <text x="0" y=${y + 17} class="chart-label">${String(row[name.key] ?? "").slice(0, 22)}</text>
          <rect x="170" y=${y} width=${width} height="22" rx="3" class="chart-bar" />
          <text x=${176 + width} y=${y + 17} class="chart-value">${cell(row[value.key], value, report.currency)}</text>
        </g>`;
      })}
    </svg>
  </figure>`;
}

export function Reports({ name, query }) {
  const report = REPORTS[name] ? name : "funnel";
  const [extra, valueKey] = REPORTS[report];
  const filters = Object.fromEntries([...query.entries()].filter(([, value]) => value));
  const [state, setState] = useState({ loading: true });
  const [exportError, setExportError] = useState(null);
  const key = `${report}?${new URLSearchParams(filters)}`;
  useEffect(() => {
    setState({ loading: true });
    api.get(`/reports/${report}`, filters).then((data) => setState({ data }),
      (error) => setState({ error }));
  }, [key]);

  function apply(event) {
    event.preventDefault();
    const chosen = new URLSearchParams();
    for (const [field, value] of new FormData(event.target)) if (value) chosen.set(field, value);
    location.hash = `#/reports/${report}?${chosen}`;
  }
  async function exportAs(format) {
    try {
      setExportError(null);
      await download(`/reports/${report}`, { ...filters, format });
    } catch (failed) {
      setExportError(problemText(failed));
    }
  }
  const data = state.data;
  return html`<section>
    <h1>${t("reports.title")}</h1>
    <nav class="tabs" aria-label=${t("reports.title")}>
      ${Object.keys(REPORTS).map((each) => html`<a href=${`#/reports/${each}`}
        aria-current=${each === report ? "page" : undefined}>${t(`report.${each}`)}</a>`)}
    </nav>
    <form class="filters" onSubmit=${apply}>
      <div class="field"><label for="from">${t("reports.from")}</label>
        <input id="from" name="from" type="date" value=${filters.from || ""} /></div>
      <div class="field"><label for="to">${t("reports.to")}</label>
        <input id="to" name="to" type="date" value=${filters.to || ""} /></div>
      ${extra.includes("period") && html`<div class="field"><label for="period">${t("reports.period")}</label>
        <select id="period" name="period" value=${filters.period || "month"}>
          ${PERIODS.map((period) => html`<option value=${period}>${t(`period.${period}`)}</option>`)}
        </select></div>`}
      ${extra.includes("forecast_period") && html`<div class="field"><label for="period">${t("reports.period")}</label>
        <select id="period" name="period" value=${filters.period || "month"}>
          ${["month", "quarter"].map((period) => html`<option value=${period}>${t(`period.${period}`)}</option>`)}
        </select></div>`}
      ${extra.includes("group_by") && html`<div class="field"><label for="group_by">${t("reports.group_by")}</label>
        <select id="group_by" name="group_by" value=${filters.group_by || ""}>
          <option value="">${t("none")}</option>
          ${GROUPS[report].map((group) => html`<option value=${group}>${t(`group.${group}`)}</option>`)}
        </select></div>`}
      <div class="actions"><button type="submit">${t("reports.apply")}</button></div>
    </form>
    <div class="actions exports">
      <button type="button" onClick=${() => exportAs("csv")}>${t("reports.export_csv")}</button>
      <button type="button" onClick=${() => exportAs("xlsx")}>${t("reports.export_xlsx")}</button>
    </div>
    ${exportError && html`<p class="error" role="alert">${exportError}</p>`}
    ${state.loading && html`<p class="muted" role="status">${t("loading")}</p>`}
    ${state.error && html`<p class="error" role="alert">${problemText(state.error)}</p>`}
    ${data && html`
      <h2>${t(`report.${report}`)}</h2>
      <${Chart} report=${data} valueKey=${valueKey} />
      ${data.rows.length === 0 ? html`<p class="muted">${t("reports.empty")}</p>` : html`
      <div class="table-wrap" tabindex="0" role="region" aria-label=${t("table.region")}><table>
        <thead><tr>${data.columns.filter((column) => column.type !== "id")
          .map((column) => html`<th scope="col">${label(column)}</th>`)}</tr></thead>
        <tbody>${data.rows.map((row) => html`<tr>${data.columns
          .filter((column) => column.type !== "id")
          .map((column) => html`<td>${cell(row[column.key], column, data.currency)}</td>`)}</tr>`)}</tbody>
      </table></div>`}
      <p class="muted">${t("reports.as_of", { when: formatDateTime(data.as_of || data.generated_at) })}</p>`}
  </section>`;
}
