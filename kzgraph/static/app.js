// The kzgraph query page: plain JavaScript, no libraries, talks to /queries and /sparql.
"use strict";
const KZ = "https://w3id.org/kzgraph/id/";
const $ = (id) => document.getElementById(id);
let stored = {};
let storedText = "";

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function shorten(iri) {
  return iri.startsWith(KZ) ? "kz:" + iri.slice(KZ.length) : iri;
}

function cell(binding) {
  const td = el("td");
  if (!binding) return td;
  if (binding.type === "uri") {
    const href = binding.value.startsWith(KZ) ? "/id/" + binding.value.slice(KZ.length) : binding.value;
    const a = el("a", { href: /^https?:/.test(href) || href.startsWith("/") ? href : "#" }, shorten(binding.value));
    td.appendChild(a);
  } else {
    td.textContent = binding.value;
  }
  return td;
}

function showParams(query) {
  const box = $("params");
  box.textContent = "";
  for (const p of (query ? query.params : [])) {
    const span = el("span", { class: "param" });
    const label = el("label", { for: "param-" + p.name }, p.name + " (" + p.type + (p.required ? ", required" : "") + ")");
    const input = el("input", { id: "param-" + p.name, name: p.name, placeholder: p.default || p.description || "" });
    span.append(label, input);
    box.appendChild(span);
  }
}

function currentRequest() {
  const name = $("picker").value;
  const text = $("query").value;
  if (name && text === storedText) {
    const params = new URLSearchParams();
    for (const input of $("params").querySelectorAll("input")) {
      if (input.value.trim()) params.append(input.name, input.value.trim());
    }
    return { url: "/queries/" + encodeURIComponent(name), params, name };
  }
  return { url: "/sparql", params: new URLSearchParams({ query: text }), name: "result" };
}

function render(data) {
  const out = $("results");
  out.textContent = "";
  if (typeof data.boolean === "boolean") {
    out.appendChild(el("p", {}, "Answer: " + data.boolean));
    return;
  }
  const vars = data.head.vars;
  const rows = data.results.bindings;
  out.appendChild(el("p", { id: "count" }, rows.length + (rows.length === 1 ? " row" : " rows")));
  const table = el("table", { id: "table" });
  const head = el("tr");
  for (const v of vars) head.appendChild(el("th", {}, v));
  table.appendChild(el("thead")).appendChild(head);
  const body = el("tbody");
  for (const row of rows) {
    const tr = el("tr");
    for (const v of vars) tr.appendChild(cell(row[v]));
    body.appendChild(tr);
  }
  table.appendChild(body);
  out.appendChild(table);
}

function downloads(req, graph) {
  const links = $("links");
  links.textContent = "";
  const formats = graph ? ["ttl", "nt", "jsonld", "rdfxml"] : ["csv", "tsv", "json", "xml"];
  for (const f of formats) {
    const params = new URLSearchParams(req.params);
    params.set("format", f);
    links.append(el("a", { href: req.url + "?" + params.toString(), download: req.name + "." + f }, f), " ");
  }
  $("downloads").hidden = false;
}

async function run(event) {
  if (event) event.preventDefault();
  const req = currentRequest();
  $("status").textContent = "running…";
  $("results").textContent = "";
  $("downloads").hidden = true;
  const started = performance.now();
  try {
    const response = await fetch(req.url + "?" + req.params.toString(), {
      headers: { Accept: "application/sparql-results+json, text/turtle;q=0.9" },
    });
    const type = response.headers.get("content-type") || "";
    if (!response.ok) {
      $("status").textContent = "error " + response.status;
      $("results").appendChild(el("p", { class: "error" }, await response.text()));
      return;
    }
    if (type.startsWith("application/sparql-results+json")) {
      render(await response.json());
      downloads(req, false);
    } else {
      $("results").appendChild(el("pre", {}, await response.text()));
      downloads(req, true);
    }
    $("status").textContent = "done in " + Math.round(performance.now() - started) + " ms";
  } catch (err) {
    $("status").textContent = "failed: " + err;
  }
}

function pick() {
  const query = stored[$("picker").value];
  showParams(query);
  $("description").textContent = query ? query.title + " — " + query.description : "";
  if (query) {
    storedText = query.text;
    $("query").value = query.text;
  }
}

async function init() {
  $("form").addEventListener("submit", run);
  $("picker").addEventListener("change", pick);
  const response = await fetch("/queries", { headers: { Accept: "application/json" } });
  for (const q of await response.json()) {
    stored[q.name] = q;
    $("picker").appendChild(el("option", { value: q.name }, q.name + " — " + q.title));
  }
  const wanted = new URLSearchParams(location.search).get("query");
  if (wanted && stored[wanted]) {
    $("picker").value = wanted;
    pick();
  }
  document.body.dataset.ready = "true";
}

init();
