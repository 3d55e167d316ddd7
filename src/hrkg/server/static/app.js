// The hrkg browser interface: stored questions, entity search, a timeline and a SPARQL
// editor, all over this server's own API (same origin; nothing is fetched from elsewhere).
// Plain JavaScript, no build step. Element ids are stable: the browser tests use them.
"use strict";

// Project IRIs start with this base; on this server the rest of the IRI is the local path
// (https://w3id.org/hrkg/id/person/x is served at /id/person/x).
const BASE_IRI = "https://w3id.org/hrkg/";
const YASGUI_SCRIPT = "/vendor/yasgui/yasgui.min.js";
const YASGUI_STYLE = "/vendor/yasgui/yasgui.min.css";
const TRUNCATED_HEADER = "HRKG-Results-Truncated";
const INPUT_TYPES = {
  integer: { type: "number", step: "1", inputmode: "numeric" },
  date: { type: "text", pattern: "\\d{4}(-\\d{2}(-\\d{2})?)?", title: "YYYY, YYYY-MM or YYYY-MM-DD" },
  iri: { type: "text", spellcheck: "false", title: "An IRI or a prefixed name such as person:amadou-sanogo" },
  langstring: { type: "text", title: "Text with a language tag, e.g. Bamako@fr" },
  string: { type: "text" },
};
// XML Schema date types (by local name), kept on one line in result tables.
const DATE_TYPES = new Set(["date", "dateTime", "gYearMonth", "gYear"]);
const EXAMPLE_QUERY = `PREFIX hr: <https://w3id.org/hrkg/def/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>

# The people in the graph, with the source graph that names them
SELECT ?person ?name ?source WHERE {
  GRAPH ?source { ?person a hr:Person ; rdfs:label ?name . }
}
ORDER BY ?name
LIMIT 50
`;

const $ = (id) => document.getElementById(id);

/** An element with attributes and children (strings become text, never HTML). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") element.className = value;
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** The local path of a project IRI, or null for any other IRI. */
function localPath(iri) {
  return iri.startsWith(BASE_IRI) ? "/" + iri.slice(BASE_IRI.length) : null;
}

/** The readable end of an IRI: "person/amadou-sanogo" for a project IRI. */
function shortIri(iri) {
  if (iri.startsWith(BASE_IRI)) return iri.slice(BASE_IRI.length).replace(/^id\//, "");
  const cut = Math.max(iri.lastIndexOf("#"), iri.lastIndexOf("/"));
  return cut > 0 && cut < iri.length - 1 ? iri.slice(cut + 1) : iri;
}

function iriLink(iri, text) {
  const local = localPath(iri);
  return h("a", { href: local ?? iri, title: iri, rel: local ? null : "external noopener" },
    text ?? (local ? shortIri(iri) : iri));
}

/** One RDF term of a SPARQL JSON result as a DOM node. */
function termNode(term) {
  if (!term) return document.createTextNode("");
  if (term.type === "uri") return iriLink(term.value);
  if (term.type === "bnode") return h("span", { class: "bnode" }, "_:" + term.value);
  const datatype = term.datatype ? shortIri(term.datatype) : null;
  const isDate = datatype !== null && DATE_TYPES.has(datatype);
  return h("span", { title: datatype, class: isDate ? "date" : null, lang: term["xml:lang"] || null },
    term.value);
}

class ApiError extends Error {}

/** GET a URL; JSON on success, ApiError carrying the server's own text otherwise. */
async function getJson(url, accept = "application/json") {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: accept } });
  } catch (error) {
    throw new ApiError(`The server did not answer (${error.message}).`);
  }
  if (!response.ok) {
    const text = (await response.text()).trim();
    throw new ApiError(text || `The server answered ${response.status} ${response.statusText}.`);
  }
  return { data: await response.json(), headers: response.headers };
}

function showError(element, message) {
  element.textContent = message;
  element.hidden = !message;
}

// ---------------------------------------------------------------- tabs

const panelStarters = {};

function selectTab(tab, { focus = false } = {}) {
  for (const other of document.querySelectorAll('[role="tab"]')) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    $(other.getAttribute("aria-controls")).hidden = !selected;
  }
  if (focus) tab.focus();
  const name = tab.id.replace(/^tab-/, "");
  history.replaceState(null, "", "#" + name);
  const start = panelStarters[name];
  if (start) {
    delete panelStarters[name];
    start();
  }
}

function setUpTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      event.preventDefault();
      selectTab(tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length], { focus: true });
    });
  }
  const wanted = $("tab-" + location.hash.slice(1));
  selectTab(wanted && wanted.getAttribute("role") === "tab" ? wanted : tabs[0]);
}

// ---------------------------------------------------------------- stored questions

let currentQuestion = null;

async function loadQuestions() {
  const list = $("query-list");
  let questions;
  try {
    ({ data: questions } = await getJson("/api/queries"));
  } catch (error) {
    list.replaceChildren(h("li", { class: "error" }, `The questions could not be loaded: ${error.message}`));
    return;
  }
  const item = (question) =>
    h("li", {},
      h("button", {
        type: "button",
        class: "question-button",
        "data-query": question.name,
        "aria-pressed": "false",
        onclick: () => chooseQuestion(question),
      },
      h("span", { class: "question-name" }, question.name.replace(/^checks\//, "")),
      h("span", { class: "question-summary" }, question.summary)));
  const isCheck = (question) => question.check || question.name.startsWith("checks/");
  list.replaceChildren(...questions.filter((q) => !isCheck(q)).map(item));
  $("check-list").replaceChildren(...questions.filter(isCheck).map(item));
  const wanted = new URLSearchParams(location.search).get("question");
  const first = questions.find((q) => q.name === wanted);
  if (first) chooseQuestion(first);
}

function fieldFor(question, parameter) {
  const id = `param-${parameter.name}`;
  const example = question.example?.[parameter.name];
  const hintId = `${id}-hint`;
  const hint = [parameter.description];
  if (parameter.default !== null && parameter.default !== undefined) hint.push(`Default: ${parameter.default}.`);
  let control;
  if (parameter.allowed && parameter.allowed.length) {
    control = h("select", { id, name: parameter.name, required: parameter.required, "aria-describedby": hintId },
      parameter.required ? null : h("option", { value: "" }, "(any)"),
      parameter.allowed.map((value) => h("option", { value }, value)));
  } else {
    const kind = INPUT_TYPES[parameter.type] ?? INPUT_TYPES.string;
    control = h("input", {
      ...kind,
      id,
      name: parameter.name,
      required: parameter.required,
      placeholder: example !== undefined ? `e.g. ${example}` : parameter.default ?? null,
      "aria-describedby": hintId,
    });
  }
  return h("div", { class: "field" },
    h("label", { for: id }, parameter.name,
      h("span", { class: "muted" }, ` (${parameter.type}${parameter.required ? ", required" : ""})`)),
    control,
    h("small", { id: hintId, class: "muted" }, hint.filter(Boolean).join(" ")));
}

function chooseQuestion(question) {
  currentQuestion = question;
  for (const button of document.querySelectorAll(".question-button")) {
    button.setAttribute("aria-pressed", String(button.dataset.query === question.name));
  }
  $("query-title").textContent = question.summary || question.name;
  $("query-description").textContent = question.description || "";
  $("query-fields").replaceChildren(...question.parameters.map((p) => fieldFor(question, p)));
  const requires = $("query-requires");
  requires.hidden = !question.requiresOneOf.length;
  requires.textContent = question.requiresOneOf.length
    ? `Give at least one of: ${question.requiresOneOf.join(", ")}.` : "";
  $("query-form").hidden = false;
  $("query-form").dataset.query = question.name;
  $("query-csv").hidden = true;
  $("query-next").hidden = true;
  $("query-status").textContent = question.parameters.length
    ? "Fill in what you need, then Run." : "This question takes no parameters: Run it.";
  showError($("query-error"), "");
  $("results").replaceChildren();
}

function formParameters(form) {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (String(value).trim() !== "") params.append(name, String(value).trim());
  }
  return params;
}

function resultsTable(data) {
  const vars = data.head?.vars ?? [];
  const rows = data.results?.bindings ?? [];
  return h("table", { class: "results-table" },
    h("thead", {}, h("tr", {}, vars.map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, vars.map((name) => h("td", {}, termNode(row[name])))))));
}

async function runQuestion(event) {
  event.preventDefault();
  const question = currentQuestion;
  if (!question) return;
  const params = formParameters($("query-form"));
  await showPage(question, `/api/queries/${question.name}?${params}`, 1);
}

// The URL a Link header names as rel="next" (the server sends one while more rows may
// follow: a full page, or an answer cut at its row limit), or null.
function nextPageUrl(headers) {
  const match = /<([^>]+)>\s*;\s*rel="next"/.exec(headers.get("Link") || "");
  return match ? match[1] : null;
}

// One page of a question's answer: rows first.. of it, with Next while more may follow.
async function showPage(question, url, first) {
  const status = $("query-status");
  const button = $("run-query");
  const next = $("query-next");
  status.textContent = "Running…";
  showError($("query-error"), "");
  $("results").replaceChildren();
  $("query-csv").hidden = true;
  next.hidden = true;
  button.disabled = true;
  try {
    const { data, headers } = await getJson(url, "application/sparql-results+json");
    if (currentQuestion !== question) return;
    if (typeof data.boolean === "boolean") {
      status.textContent = `Answer: ${data.boolean ? "yes" : "no"}`;
      return;
    }
    const count = data.results.bindings.length;
    const following = nextPageUrl(headers);
    const paged = first > 1 || following;
    let text = paged
      ? `rows ${first}–${first + count - 1}`
      : `${count} ${count === 1 ? "row" : "rows"}`;
    if (paged && !count) text = `no rows after row ${first - 1}`;
    if (headers.get(TRUNCATED_HEADER)) text += ` (the server sends at most ${count} rows at a time)`;
    if (question.check) text += count ? " — the check fails" : " — the check passes";
    status.textContent = text;
    $("results").replaceChildren(count ? resultsTable(data) : h("p", { class: "muted" }, "No rows."));
    const csv = new URL(url, window.location.origin);
    csv.searchParams.set("format", "csv");
    $("query-csv").href = csv.pathname + csv.search;
    $("query-csv").textContent = paged ? "Download these rows as CSV" : "Download as CSV";
    $("query-csv").hidden = false;
    if (following && count) {
      next.hidden = false;
      next.onclick = () => showPage(question, following, first + count);
    }
  } catch (error) {
    status.textContent = "";
    showError($("query-error"), error.message);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- entity search

let searchRound = 0;

async function searchEntities(event) {
  event?.preventDefault();
  const label = $("entity-search").value.trim();
  const status = $("entity-status");
  const list = $("entity-results");
  showError($("entity-error"), "");
  if (label.length < 2) {
    status.textContent = "Type at least two letters.";
    list.replaceChildren();
    return;
  }
  const round = ++searchRound;
  status.textContent = "Searching…";
  try {
    // The search question reads labels and types only: quick on a large graph, where the
    // entity question by label would read every statement of every match.
    const { data, headers } = await getJson(`/api/queries/search?${new URLSearchParams({ text: label })}`,
      "application/sparql-results+json");
    if (round !== searchRound) return;
    const entities = data.results.bindings
      .map((row) => [row.entity.value, row.label?.value ?? shortIri(row.entity.value)])
      .sort((a, b) => a[1].localeCompare(b[1]));
    status.textContent = entities.length
      ? `${entities.length} ${entities.length === 1 ? "entity matches" : "entities match"} “${label}”.`
      : `No entity's label contains “${label}”.`;
    if (headers.get(TRUNCATED_HEADER)) {
      status.textContent += ` The server sends at most ${entities.length} at a time: ` +
        "there may be more; type more letters to narrow the search.";
    }
    list.replaceChildren(...entities.map(([iri, name]) => {
      const path = localPath(iri);
      const kind = path ? path.split("/")[2] : null;
      return h("li", {},
        iriLink(iri, name),
        kind ? h("span", { class: "kind" }, kind.replace(/-/g, " ")) : null);
    }));
  } catch (error) {
    if (round !== searchRound) return;
    status.textContent = "";
    showError($("entity-error"), error.message);
  }
}

function setUpSearch() {
  $("entity-search-form").addEventListener("submit", searchEntities);
  let timer = null;
  $("entity-search").addEventListener("input", () => {
    clearTimeout(timer);
    if ($("entity-search").value.trim().length >= 2) timer = setTimeout(searchEntities, 350);
  });
}

// ---------------------------------------------------------------- timeline

let documentTitles = null;

/** Titles of the source documents, to name timeline sources (asked once of /sparql). */
async function loadDocumentTitles() {
  if (documentTitles) return documentTitles;
  documentTitles = new Map();
  const query = `PREFIX hr: <${BASE_IRI}def/>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?document (SAMPLE(?title) AS ?name) WHERE {
  ?document a hr:Document ; dcterms:title ?title .
  FILTER(LANG(?title) = "en" || LANG(?title) = "")
} GROUP BY ?document`;
  try {
    const { data } = await getJson(`/sparql?${new URLSearchParams({ query })}`,
      "application/sparql-results+json");
    for (const row of data.results.bindings) {
      if (row.document && row.name) documentTitles.set(row.document.value, row.name.value);
    }
  } catch {
    // Without titles the sources show as their short names; the timeline still works.
  }
  return documentTitles;
}

async function loadTimeline(event) {
  event?.preventDefault();
  const form = $("timeline-form");
  const status = $("timeline-status");
  const output = $("timeline");
  showError($("timeline-error"), "");
  status.textContent = "Loading…";
  try {
    const [{ data, headers }, titles] = await Promise.all([
      getJson(`/api/queries/timeline?${formParameters(form)}`, "application/sparql-results+json"),
      loadDocumentTitles(),
    ]);
    const years = new Map();
    for (const row of data.results.bindings) {
      const year = row.date.value.slice(0, 4);
      if (!years.has(year)) years.set(year, []);
      years.get(year).push(row);
    }
    const count = data.results.bindings.length;
    const reported = data.results.bindings.some((row) => row.dateBasis && row.dateBasis.value !== "stated");
    $("timeline-legend").hidden = !reported;
    status.textContent = `${count} dated ${count === 1 ? "item" : "items"} in ${years.size} ${years.size === 1 ? "year" : "years"}.`;
    if (headers.get(TRUNCATED_HEADER)) {
      // The server cut the answer at its row cap: say so, rather than pass a part for the whole.
      status.textContent = `The first ${count} dated items, in ${years.size} ${years.size === 1 ? "year" : "years"}: ` +
        `the server sends at most ${count} rows at a time. Choose a shorter period to see the rest.`;
    }
    output.replaceChildren(...[...years].map(([year, rows]) =>
      h("section", { class: "timeline-year", id: `year-${year}`, "aria-labelledby": `year-${year}-heading` },
        h("h3", { id: `year-${year}-heading` }, year),
        h("ol", {}, rows.map((row) => timelineItem(row, titles))))));
  } catch (error) {
    status.textContent = "";
    output.replaceChildren();
    showError($("timeline-error"), error.message);
  }
}

function timelineItem(row, titles) {
  const source = row.source?.value;
  const reported = row.dateBasis && row.dateBasis.value !== "stated";
  return h("li", { class: "timeline-item" },
    h("time", { datetime: row.date.value, title: reported ? "date of the source that reports it" : null },
      row.date.value, reported ? "*" : ""),
    h("span", { class: `kind kind-${row.kind.value.replace(/\s+/g, "-")}` }, row.kind.value),
    h("span", { class: "timeline-label" }, iriLink(row.item.value, row.label.value)),
    source ? h("span", { class: "timeline-source" }, "source: ",
      iriLink(source, titles.get(source) ?? shortIri(source).replace(/^document\//, ""))) : null);
}

// ---------------------------------------------------------------- SPARQL editor (YASGUI)

let yasguiLoaded = null;

/** Load the vendored YASGUI (installed from the npm registry by `make install`). */
function loadYasgui() {
  yasguiLoaded ??= new Promise((resolve, reject) => {
    const style = h("link", { rel: "stylesheet", href: YASGUI_STYLE });
    const script = h("script", { src: YASGUI_SCRIPT });
    script.addEventListener("load", () => (window.Yasgui ? resolve(window.Yasgui) : reject(new Error("no Yasgui"))));
    script.addEventListener("error", () => reject(new Error(`${YASGUI_SCRIPT} did not load`)));
    document.head.append(style, script);
  });
  return yasguiLoaded;
}

async function startEditor() {
  let Yasgui;
  try {
    Yasgui = await loadYasgui();
  } catch {
    $("yasgui-fallback").hidden = false;
    return;
  }
  // Property and class completion asks a web service (LOV); this interface works offline.
  // Set on the shared defaults: YASGUI merges arrays index by index, so a list passed in
  // the config would only overwrite the first entries of the default list.
  Yasgui.defaults.yasqe.autocompleters = ["prefixes", "variables"];
  const yasgui = new Yasgui($("yasgui"), {
    requestConfig: { endpoint: "/sparql", method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: () => [{ endpoint: "/sparql" }], keys: [] },
    populateFromUrl: false,
    persistenceId: "hrkg-yasgui",
    yasqe: { value: EXAMPLE_QUERY },
  });
  window.hrkg.yasgui = yasgui;
  // YASR links every IRI to itself; project IRIs open here instead, at their local path.
  for (const kind of ["mousedown", "focusin", "keydown"]) {
    $("yasgui").addEventListener(kind, (event) => {
      const anchor = event.target.closest?.("a[href]");
      const local = anchor && localPath(anchor.href);
      if (local) {
        anchor.href = local;
        anchor.removeAttribute("target");
      }
    }, true);
  }
  document.body.dataset.yasgui = "ready";
}

// ---------------------------------------------------------------- start

window.hrkg = { yasgui: null };

document.addEventListener("DOMContentLoaded", () => {
  $("query-form").addEventListener("submit", runQuestion);
  $("timeline-form").addEventListener("submit", loadTimeline);
  setUpSearch();
  panelStarters.timeline = () => loadTimeline();
  panelStarters.sparql = startEditor;
  loadYasgui().catch(() => { $("yasgui-fallback").hidden = false; });
  setUpTabs();
  loadQuestions();
});
