// The pipeline board: a column per stage with its count, totals and weighted totals (of
// every deal, from the API's board) and its most recently changed deals; a deal moves by
// dragging its card to a column, or with the card's "Move to" list (keyboard and touch). Won
// asks for the amount when the deal has none; lost asks why.
import { html, useEffect, useRef, useState } from "./vendor/htm-3.1.1/preact-standalone.module.js";
import { api } from "./api.js";
import { formatMoney, t } from "./i18n.js";
import { problemText } from "./ui.js";

const WON = "won";
const LOST = "lost";

const PER_STAGE = 50;

function Question({ ask, onAnswer, onCancel }) {
  const input = useRef(null);
  const [error, setError] = useState(null);
  useEffect(() => input.current?.focus(), []);
  async function submit(event) {
    event.preventDefault();
    const value = new FormData(event.target).get("answer").trim();
    if (!value) return;
    try {
      await onAnswer(value);
    } catch (failed) {
      setError(problemText(failed));
    }
  }
  const isAmount = ask.stage === WON;
  return html`<div class="backdrop">
    <form class="dialog" role="dialog" aria-modal="true" aria-labelledby="question-title"
      onSubmit=${submit} onKeyDown=${(event) => event.key === "Escape" && onCancel()}>
      <h2 id="question-title">${isAmount ? t("pipeline.won_title") : t("pipeline.lost_title")}</h2>
      <p>${ask.deal.title}</p>
      <div class="field">
        <label for="answer">${isAmount ? t("pipeline.amount", { currency: ask.deal.currency })
          : t("pipeline.reason")}</label>
        ${isAmount
          ? html`<input id="answer" name="answer" ref=${input} inputmode="decimal" required />`
          : html`<textarea id="answer" name="answer" ref=${input} rows="3" required></textarea>`}
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="actions">
        <button type="submit">${t("pipeline.confirm")}</button>
        <button type="button" class="link" onClick=${onCancel}>${t("cancel")}</button>
      </div>
    </form>
  </div>`;
}

function Card({ deal, stages, onMove }) {
  return html`<li class="deal" draggable="true"
      onDragStart=${(event) => event.dataTransfer.setData("text/plain", deal.id)}>
    <a href=${`#/deals/${deal.id}`}>${deal.title}</a>
    <div class="muted">${Number(deal.amount) > 0 ? formatMoney(deal.amount, deal.currency) : t("none")}</div>
    <label class="move">
      <span class="visually-hidden">${t("pipeline.move", { title: deal.title })}</span>
      <select aria-label=${t("pipeline.move", { title: deal.title })}
        onChange=${(event) => { const stage = event.target.value; event.target.value = ""; if (stage) onMove(deal, stage); }}>
        <option value="">${t("pipeline.move_to")}</option>
        ${stages.filter((stage) => stage.key !== deal.stage)
          .map((stage) => html`<option value=${stage.key}>${stage.name}</option>`)}
      </select>
    </label>
  </li>`;
}

export function Pipeline() {
  const [board, setBoard] = useState(null);
  const [error, setError] = useState(null);
  const [ask, setAsk] = useState(null);
  async function load() {
    try {
      const answer = await api.get("/pipeline/board", { per_stage: PER_STAGE });
      setBoard({ stages: answer.stages, deals: answer.stages.flatMap((stage) => stage.deals) });
    } catch (failed) {
      setError(failed);
    }
  }
  useEffect(() => { load(); }, []);

  async function move(deal, stage, answer) {
    const path = `/deals/${encodeURIComponent(deal.id)}`;
    if (stage === WON && answer) {
      const changed = await api.patch(path, { amount: answer, version: deal.version });
      deal.version = changed.version;  // a retry of the move goes on from here
      deal.amount = changed.amount;
    }
    const body = { stage, version: deal.version };
    if (stage === LOST) body.lost_reason = answer;
    await api.post(`${path}/stage`, body);
    setAsk(null);
    setError(null);
    await load();
  }
  function request(deal, stage) {
    if ((stage === WON && !(Number(deal.amount) > 0)) || stage === LOST) {
      setAsk({ deal, stage });
    } else {
      move(deal, stage).catch(setError);
    }
  }

  if (!board) {
    return html`<section><h1>${t("pipeline.title")}</h1>
      ${error ? html`<p class="error" role="alert">${problemText(error)}</p>`
        : html`<p class="muted" role="status">${t("loading")}</p>`}</section>`;
  }
  return html`<section class="pipeline">
    <h1>${t("pipeline.title")}</h1>
    ${error && html`<p class="error" role="alert">${problemText(error)}</p>`}
    <div class="board" tabindex="0" role="region" aria-label=${t("pipeline.title")}>
      ${board.stages.map((stage) => {
        const { deals } = stage;
        return html`<section class="column" data-stage=${stage.key}
            aria-labelledby=${`stage-${stage.key}`}
            onDragOver=${(event) => event.preventDefault()}
            onDrop=${(event) => {
              event.preventDefault();
              const deal = board.deals.find((d) => d.id === event.dataTransfer.getData("text/plain"));
              if (deal && deal.stage !== stage.key) request(deal, stage.key);
            }}>
          <h2 id=${`stage-${stage.key}`}>${stage.name} <span class="muted">(${stage.count})</span></h2>
          <p class="muted totals">${stage.totals.map((sum) => html`
            <span>${t("pipeline.total")} ${formatMoney(sum.amount, sum.currency)}</span>
            <span>${t("pipeline.weighted", { probability: stage.probability })} ${formatMoney(sum.weighted_amount, sum.currency)}</span>`)}
          </p>
          <ul>${deals.map((deal) => html`<${Card} key=${deal.id} deal=${deal}
            stages=${board.stages} onMove=${request} />`)}</ul>
          ${stage.count > deals.length && html`<p class="muted">
            ${t("pipeline.more", { count: stage.count - deals.length })}</p>`}
        </section>`;
      })}
    </div>
    ${ask && html`<${Question} ask=${ask} onCancel=${() => setAsk(null)}
      onAnswer=${(answer) => move(ask.deal, ask.stage, answer)} />`}
  </section>`;
}
