// Import: upload a CSV or XLSX of customers or leads, see what a dry run would do (counts,
// columns read and unknown, each failed row's error), map the columns it did not know to
// fields (or leave them out), run it for real with the same file and mapping, and download
// the failed rows to fix and import again. Export: the lists' own buttons.
import { html, useEffect, useState } from "./vendor/htm-3.1.1/preact-standalone.module.js";
import { api, download } from "./api.js";
import { currentLanguage, formatDateTime, t } from "./i18n.js";
import { problemText } from "./ui.js";

const POLL_MS = 500;
const FINISHED = ["succeeded", "failed"];
const HEADER_BYTES = 64 * 1024;

// A CSV file's header as this browser reads it, for mapping its columns when the server
// refused the file for a column it needs (it reads the file itself, quotes and all).
async function csvHeader(file) {
  if (!file || !/\.csv$/i.test(file.name)) return [];
  const text = decoded(new Uint8Array(await file.slice(0, HEADER_BYTES).arrayBuffer()));
  const line = text.split(/\r?\n/, 1)[0];
  const delimiter = [",", ";", "\t", "|"].reduce((best, candidate) =>
    (line.split(candidate).length > line.split(best).length ? candidate : best));
  return line.split(delimiter).map((cell) => cell.trim().replace(/^"(.*)"$/, "$1")).filter(Boolean);
}

// The encodings the server reads (common/importing.py): UTF-16 by its byte-order mark, UTF-8,
// else GB18030 (what Excel writes for Chinese).
function decoded(bytes) {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return new TextDecoder("gb18030").decode(bytes);
  }
}

// A column without a header ("(column 3)" in a job's report) cannot be named in a mapping.
const mappable = (columns) => columns.filter((column) => !/^\(column \d+\)$/.test(column));

// The columns to map: each a list of the entity's fields, or left out.
function Mapping({ headers, fields, mapping, onChange }) {
  const label = (item) => (currentLanguage() === "zh-CN" ? item.labels[1] : item.labels[0]);
  return html`<fieldset class="mapping"><legend>${t("import.mapping")}</legend>
    <p class="muted">${t("import.mapping_hint")}</p>
    ${headers.map((header, index) => html`<div class="field">
      <label for=${`map-${index}`}>${header}</label>
      <select id=${`map-${index}`} value=${mapping[header] ?? ""}
        onChange=${(event) => onChange({ ...mapping, [header]: event.target.value || null })}>
        <option value="">${t("import.leave_out")}</option>
        ${fields.map((item) => html`<option value=${item.field}>${label(item)} (${item.field})</option>`)}
      </select></div>`)}
  </fieldset>`;
}

export function Import() {
  const [file, setFile] = useState(null);
  const [options, setOptions] = useState({ entity: "customers", on_duplicate: "skip", atomic: true });
  const [job, setJob] = useState(null);
  const [error, setError] = useState(null);
  const [fields, setFields] = useState([]);
  const [headers, setHeaders] = useState([]);  // the columns offered for mapping
  const [mapping, setMapping] = useState({});

  useEffect(() => {
    api.get("/imports/fields", { entity: options.entity })
      .then((answer) => setFields(answer.items), setError);
  }, [options.entity]);

  useEffect(() => {  // a dry run's unknown columns are offered for mapping
    if (job && job.dry_run && FINISHED.includes(job.status) && job.unknown_columns?.length) {
      setHeaders((offered) => [...new Set([...offered, ...mappable(job.unknown_columns)])]);
    }
  }, [job]);

  useEffect(() => {  // follow a job until it has finished
    if (!job || FINISHED.includes(job.status)) return undefined;
    const timer = setTimeout(() => api.get(`/imports/${encodeURIComponent(job.id)}`)
      .then(setJob, setError), POLL_MS);
    return () => clearTimeout(timer);
  }, [job]);

  async function start(dryRun) {
    const form = new FormData();
    form.append("file", file);
    form.append("entity", options.entity);
    form.append("on_duplicate", options.on_duplicate);
    form.append("atomic", String(options.atomic));
    form.append("dry_run", String(dryRun));
    if (Object.keys(mapping).length) form.append("mapping", JSON.stringify(mapping));
    try {
      setError(null);
      setJob(await api.post("/imports", form));
    } catch (failed) {
      setError(failed);
      setJob(null);
      if (failed.status === 400) {  // a file refused whole: its columns may be mapped
        const header = await csvHeader(file);
        setHeaders((offered) => [...new Set([...offered, ...header])]);
      }
    }
  }
  const finished = job && FINISHED.includes(job.status);
  return html`<section>
    <h1>${t("import.title")}</h1>
    <form class="form" onSubmit=${(event) => { event.preventDefault(); start(true); }}>
      <div class="field"><label for="import-file">${t("import.file")}</label>
        <input id="import-file" type="file" accept=".csv,.xlsx,text/csv" required
          onChange=${(event) => {
            setFile(event.target.files[0] || null);
            setJob(null);
            setHeaders([]);
            setMapping({});
          }} /></div>
      <div class="field"><label for="entity">${t("import.entity")}</label>
        <select id="entity" value=${options.entity}
          onChange=${(event) => { setOptions({ ...options, entity: event.target.value }); setMapping({}); }}>
          <option value="customers">${t("nav.customers")}</option>
          <option value="leads">${t("nav.leads")}</option>
        </select></div>
      <div class="field"><label for="on_duplicate">${t("import.on_duplicate")}</label>
        <select id="on_duplicate" value=${options.on_duplicate}
          onChange=${(event) => setOptions({ ...options, on_duplicate: event.target.value })}>
          ${["skip", "update", "create"].map((choice) => html`<option value=${choice}>${t(`import.duplicate.${choice}`)}</option>`)}
        </select></div>
      <label class="check"><input type="checkbox" checked=${options.atomic}
        onChange=${(event) => setOptions({ ...options, atomic: event.target.checked })} />
        ${t("import.atomic")}</label>
      ${headers.length > 0 && html`<${Mapping} headers=${headers} fields=${fields}
        mapping=${mapping} onChange=${setMapping} />`}
      <div class="actions">
        <button type="submit" disabled=${!file}>${t("import.dry_run")}</button>
        ${job && job.dry_run && finished && job.status === "succeeded" && html`
          <button type="button" onClick=${() => start(false)}>${t("import.run")}</button>`}
      </div>
    </form>
    ${error && html`<p class="error" role="alert">${problemText(error)}</p>`}
    ${job && html`<section aria-live="polite">
      <h2>${job.dry_run ? t("import.dry_result") : t("import.result")}: ${t(`import.status.${job.status}`)}</h2>
      ${job.message && html`<p>${job.message}</p>`}
      <dl class="facts">
        ${["total", "created", "updated", "skipped", "failed"].map((count) => html`
          <dt>${t(`import.count.${count}`)}</dt><dd>${job.counts?.[count] ?? 0}</dd>`)}
        <dt>${t("import.columns")}</dt><dd>${(job.columns || []).join(", ") || t("none")}</dd>
        ${job.unknown_columns?.length > 0 && html`<dt>${t("import.unknown")}</dt>
          <dd class="error">${job.unknown_columns.join(", ")}</dd>`}
        <dt>${t("import.finished")}</dt><dd>${formatDateTime(job.finished_at)}</dd>
      </dl>
      ${job.errors?.length > 0 && html`
        <div class="table-wrap" tabindex="0" role="region" aria-label=${t("table.region")}><table>
          <thead><tr><th scope="col">${t("import.row")}</th><th scope="col">${t("import.column")}</th>
            <th scope="col">${t("import.value")}</th><th scope="col">${t("import.message")}</th></tr></thead>
          <tbody>${job.errors.map((failure) => html`<tr><td>${failure.row}</td>
            <td>${failure.column || t("none")}</td><td>${failure.value ?? ""}</td>
            <td>${failure.message}</td></tr>`)}</tbody>
        </table></div>
        <button type="button" onClick=${() => download(`/imports/${encodeURIComponent(job.id)}/errors.csv`, {})
          .catch(setError)}>${t("import.errors_csv")}</button>`}
    </section>`}
  </section>`;
}
