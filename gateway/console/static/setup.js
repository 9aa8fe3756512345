// How the company sells, set up by admins: its teams (each with its manager), the pipeline's
// stages (their order, names and win probabilities; won and lost always stay) and how each
// team's new leads are given to its members.
import { html, useEffect, useState } from "./vendor/htm-3.1.1/preact-standalone.module.js";
import { api } from "./api.js";
import { t } from "./i18n.js";
import { Field, fieldErrors, FormErrors, problemText, useChange } from "./ui.js";

const CLOSING = ["won", "lost"];

// ``directory``: the users and teams (admin.js fetches them for the page); ``onChanged``
// fetches them again.
export function Teams({ directory: state, onChanged }) {
  const [error, change] = useChange(onChanged);
  async function create(event) {
    event.preventDefault();
    const formElement = event.target;
    const form = new FormData(formElement);
    if (await change(() => api.post("/teams", { name: form.get("team-name"),
      manager_id: form.get("manager_id") || null }))) formElement.reset();
  }
  if (!state) return html`<p class="muted" role="status">${t("loading")}</p>`;
  if (state.error) return html`<p class="error" role="alert">${problemText(state.error)}</p>`;
  const named = Object.fromEntries(state.users.map((user) => [user.id, user.display_name]));
  const managers = state.users.filter((user) => user.role === "manager" && user.active);
  const errors = { "team-name": fieldErrors(error).name, manager_id: fieldErrors(error).manager_id };
  return html`<section aria-labelledby="teams-title">
    <h2 id="teams-title">${t("admin.teams")}</h2>
    <ul class="cards">${state.teams.map((team) => html`<li>
      <strong>${team.name}</strong>
      <div class="muted">${t("admin.manager")}: ${named[team.manager_id] || t("none")}</div>
    </li>`)}</ul>
    <form class="inline-form" onSubmit=${create}>
      <${Field} id="team-name" label=${t("admin.team_name")} errors=${errors}>
        <input id="team-name" name="team-name" required />
      <//>
      <${Field} id="manager_id" label=${t("admin.manager")} errors=${errors}>
        <select id="manager_id" name="manager_id"><option value="">${t("none")}</option>
          ${managers.map((user) => html`<option value=${user.id}>${user.display_name}</option>`)}
        </select>
      <//>
      <button type="submit">${t("admin.new_team")}</button>
      <${FormErrors} error=${error} shown=${["name", "manager_id"]} />
    </form>
  </section>`;
}

// The stages as edited: moved, renamed, re-weighted, added or removed, then saved at once.
export function PipelineStages() {
  const [stages, setStages] = useState(null);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  const load = () => api.get("/pipeline/stages").then((pipeline) => setStages(pipeline.stages),
    setError);
  useEffect(() => { load(); }, []);
  if (!stages) {
    return error ? html`<p class="error" role="alert">${problemText(error)}</p>`
      : html`<p class="muted" role="status">${t("loading")}</p>`;
  }
  const edit = (index, change) => {
    setSaved(false);
    setStages(stages.map((stage, other) => (other === index ? { ...stage, ...change } : stage)));
  };
  const move = (index, by) => {
    const moved = [...stages];
    [moved[index], moved[index + by]] = [moved[index + by], moved[index]];
    setSaved(false);
    setStages(moved);
  };
  async function save(event) {
    event.preventDefault();
    try {
      const pipeline = await api.put("/pipeline/stages", { stages: stages.map(
        ({ key, name, probability }) => ({ key, name, probability: Number(probability) })) });
      setStages(pipeline.stages);
      setError(null);
      setSaved(true);
    } catch (failed) {
      setError(failed);
    }
  }
  function add(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const at = Math.max(0, stages.findIndex((stage) => CLOSING.includes(stage.key)));
    setSaved(false);
    setStages([...stages.slice(0, at), { key: form.get("stage-key"), name: form.get("stage-name"),
      probability: Number(form.get("stage-probability") || 0) }, ...stages.slice(at)]);
    event.target.reset();
  }
  return html`<section aria-labelledby="stages-title">
    <h2 id="stages-title">${t("admin.stages")}</h2>
    <form onSubmit=${save}>
      <div class="table-wrap" tabindex="0" role="region" aria-label=${t("admin.stages")}><table>
        <thead><tr><th scope="col">${t("admin.stage_key")}</th>
          <th scope="col">${t("admin.stage_name")}</th>
          <th scope="col">${t("admin.stage_probability")}</th>
          <th scope="col">${t("deal.actions")}</th></tr></thead>
        <tbody>${stages.map((stage, index) => html`<tr key=${stage.key}>
          <td>${stage.key}</td>
          <td><input aria-label=${t("admin.stage_name_of", { key: stage.key })} value=${stage.name}
            required onInput=${(event) => edit(index, { name: event.target.value })} /></td>
          <td><input aria-label=${t("admin.stage_probability_of", { key: stage.key })}
            inputmode="numeric" value=${stage.probability} required
            onInput=${(event) => edit(index, { probability: event.target.value })} /></td>
          <td class="actions">
            ${index > 0 && html`<button type="button" class="link"
              aria-label=${t("admin.stage_up", { key: stage.key })}
              onClick=${() => move(index, -1)}>↑</button>`}
            ${index < stages.length - 1 && html`<button type="button" class="link"
              aria-label=${t("admin.stage_down", { key: stage.key })}
              onClick=${() => move(index, 1)}>↓</button>`}
            ${!CLOSING.includes(stage.key) && html`<button type="button" class="link"
              aria-label=${t("admin.stage_remove", { key: stage.key })}
              onClick=${() => { setSaved(false); setStages(stages.filter((_, other) => other !== index)); }}>
              ${t("deal.remove")}</button>`}
          </td>
        </tr>`)}</tbody>
      </table></div>
      <${FormErrors} error=${error} shown=${[]} />
      ${saved && html`<p class="success" role="status">${t("admin.stages_saved")}</p>`}
      <button type="submit">${t("admin.stages_save")}</button>
    </form>
    <form class="inline-form" onSubmit=${add}>
      <div class="field"><label for="stage-key">${t("admin.stage_key")}</label>
        <input id="stage-key" name="stage-key" required pattern="[a-z][a-z0-9_]{0,39}" /></div>
      <div class="field"><label for="stage-name">${t("admin.stage_name")}</label>
        <input id="stage-name" name="stage-name" required /></div>
      <div class="field"><label for="stage-probability">${t("admin.stage_probability")}</label>
        <input id="stage-probability" name="stage-probability" inputmode="numeric" /></div>
      <button type="submit">${t("admin.stage_add")}</button>
    </form>
  </section>`;
}

const STRATEGIES = ["round_robin", "least_open", "region"];

// One team's lead assignment rule: round robin, the member with the fewest open leads, or by
// region (a city, province or country to the member who gets its leads).
function AssignmentRule({ team, rule, members, onSaved }) {
  const [strategy, setStrategy] = useState(rule?.strategy || "round_robin");
  const [regions, setRegions] = useState(Object.entries(rule?.region_map || {}));
  const [error, change] = useChange(onSaved);
  const [saved, setSaved] = useState(false);
  async function save(event) {
    event.preventDefault();
    const body = { strategy, region_map: strategy === "region"
      ? Object.fromEntries(regions.filter(([region]) => region.trim())) : {} };
    setSaved(Boolean(await change(() => api.put(
      `/assignment-rules/${encodeURIComponent(team.id)}`, body))));
  }
  const edit = (index, entry) => {
    setSaved(false);
    setRegions(regions.map((other, at) => (at === index ? entry : other)));
  };
  const id = (name) => `${name}-${team.id}`;
  return html`<form class="form" onSubmit=${save}>
    <fieldset><legend>${team.name}</legend>
      <div class="field"><label for=${id("strategy")}>${t("rules.strategy")}</label>
        <select id=${id("strategy")} value=${strategy}
          onChange=${(event) => { setSaved(false); setStrategy(event.target.value); }}>
          ${STRATEGIES.map((name) => html`<option value=${name}>${t(`rules.${name}`)}</option>`)}
        </select></div>
      ${strategy === "region" && html`
        ${regions.map(([region, userId], index) => html`<div class="inline-form">
          <div class="field"><label for=${id(`region-${index}`)}>${t("rules.region_label")}</label>
            <input id=${id(`region-${index}`)} value=${region} required
              onInput=${(event) => edit(index, [event.target.value, userId])} /></div>
          <div class="field"><label for=${id(`member-${index}`)}>${t("rules.member")}</label>
            <select id=${id(`member-${index}`)} required
              value=${members.some((user) => user.id === userId) ? userId : ""}
              onChange=${(event) => edit(index, [region, event.target.value])}>
              <option value="" disabled>${t("rules.choose_member")}</option>
              ${members.map((user) => html`<option value=${user.id}>${user.display_name}</option>`)}
            </select></div>
          <button type="button" class="link" aria-label=${t("rules.remove_region", { region })}
            onClick=${() => setRegions(regions.filter((_, at) => at !== index))}>
            ${t("deal.remove")}</button>
        </div>`)}
        <button type="button" class="link" disabled=${members.length === 0}
          onClick=${() => setRegions([...regions, ["", members[0]?.id]])}>${t("rules.add_region")}</button>`}
      <${FormErrors} error=${error} shown=${[]} />
      ${saved && html`<p class="success" role="status">${t("rules.saved")}</p>`}
      <button type="submit">${t("rules.save", { team: team.name })}</button>
    </fieldset>
  </form>`;
}

// Each team's rule; ``directory``: the users and teams, as for ``Teams``.
export function AssignmentRules({ directory }) {
  const [rules, setRules] = useState(null);
  const load = () => api.get("/assignment-rules", { per_page: 200 })
    .then((page) => setRules({ items: page.items }), (failed) => setRules({ error: failed }));
  useEffect(() => { load(); }, []);
  const failed = rules?.error || directory?.error;
  if (failed) return html`<p class="error" role="alert">${problemText(failed)}</p>`;
  if (!rules || !directory) return html`<p class="muted" role="status">${t("loading")}</p>`;
  const state = { rules: rules.items, teams: directory.teams, users: directory.users };
  return html`<section aria-labelledby="rules-title">
    <h2 id="rules-title">${t("rules.title")}</h2>
    <p class="muted">${t("rules.hint")}</p>
    ${state.teams.map((team) => html`<${AssignmentRule} key=${team.id} team=${team}
      rule=${state.rules.find((rule) => rule.team_id === team.id)}
      members=${state.users.filter((user) => user.team_id === team.id && user.active)}
      onSaved=${load} />`)}
  </section>`;
}
