// The chipledger web explorer (docs/explorer.md): a read-only page over the
// node's public API. Routes: #/ (search, members), #/chip/SERIAL,
// #/member/ID, #/license/ID; ?q=SERIAL submits the search box. The verdict is the node's verifier's
// (GET /v1/chips/SERIAL/verdict); what this browser checks itself is listed
// on the page with its outcome (verify.js).
"use strict";
(function () {
  const V = window.chipledgerVerify;
  const main = document.getElementById("main");
  const TRUST_KEY = "chipledger.trust";

  // Approximate country centroids (lat, lon) for the route map: points, not
  // borders (the page downloads nothing). Countries not listed are not drawn.
  const PLACES = {
    AE: [24, 54], AU: [-25, 134], BE: [50.6, 4.6], BR: [-10, -52], BY: [53.7, 28], CA: [57, -101],
    CH: [46.8, 8.2], CN: [35, 103], CU: [21.5, -79], DE: [51, 10], DK: [56, 10], ES: [40, -4],
    FI: [64, 26], FR: [46.5, 2.5], GB: [54, -2], HK: [22.3, 114.2], ID: [-2, 118], IE: [53, -8],
    IL: [31.4, 35], IN: [22, 79], IR: [32, 53], IT: [42.8, 12.5], JP: [36, 138], KP: [40, 127],
    KR: [36.5, 128], MX: [23, -102], MY: [4, 102], NL: [52.2, 5.3], NO: [61, 9], PH: [12, 122],
    PL: [52, 19], RU: [61, 96], SA: [24, 45], SE: [62, 15], SG: [1.35, 103.8], SY: [35, 38],
    TH: [15, 101], TR: [39, 35], TW: [23.7, 121], UA: [49, 32], US: [39, -98], VE: [7, -66],
    VN: [16, 107.8], ZA: [-29, 24],
  };

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  function link(kind, id, text) {
    return el("a", { href: "#/" + kind + "/" + encodeURIComponent(id) }, text || id);
  }
  function when(ms) {
    return ms ? new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z") : "";
  }
  async function getJson(path) {
    const r = await fetch(path, { headers: { Accept: "application/json" } });
    const text = await r.text();
    let body = null;
    try {
      body = JSON.parse(text);
    } catch (e) {
      body = null;
    }
    return { status: r.status, body, text };
  }
  // Each route() renders under a new generation; a page's show() only
  // writes while its generation is the newest, so a render still waiting
  // for the node (say, one started before a trust file was chosen) never
  // replaces the page a later one drew.
  let generation = 0;
  function showFor(mine) {
    return (...nodes) => {
      if (mine !== generation) return;
      main.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined));
    };
  }

  // The node keys and quorum the browser checks checkpoints against: the
  // user's trust file when loaded (kept in this browser), else the ones
  // this node says are in force (GET /v1/governance): not independent.
  async function trustRoot() {
    const maxAge = (c) => (c.policy && c.policy.max_checkpoint_age_seconds) || 0;
    const saved = localStorage.getItem(TRUST_KEY);
    if (saved) {
      const t = JSON.parse(saved);
      return { independent: true, source: "your trust file", ledgerId: t.ledger_id, nodes: t.nodes,
               quorum: t.quorum, maxAgeSeconds: maxAge(t) };
    }
    const g = await getJson("/v1/governance");
    const c = g.body && g.body.consortium;
    if (!c) throw new Error("the node gives no consortium (HTTP " + g.status + ")");
    return { independent: false, source: "the node keys this node itself lists (not independent: load your trust file)",
             ledgerId: c.ledger_id, nodes: c.nodes, quorum: c.quorum, maxAgeSeconds: maxAge(c) };
  }
  function showTrustSource() {
    const saved = localStorage.getItem(TRUST_KEY);
    document.getElementById("trust-source").textContent = saved
      ? "Node keys: your trust file (ledger " + JSON.parse(saved).ledger_id + ")"
      : "Node keys: this node's (load your trust file to check against your own)";
    document.getElementById("trust-forget").hidden = !saved;
  }

  function verdictBanner(report, signers) {
    const v = report.verdict;
    const tone = v === "ok" ? "ok" : ["not-installed", "in-transit", "never-attested", "stale-attestation",
                                       "location-unproven", "decommissioned"].includes(v) ? "warn" : "bad";
    return el("div", { class: "verdict " + tone, id: "verdict", "data-verdict": v },
              "Verdict: " + v,
              el("small", {}, "judged by this node's verifier (the same code as `chipledger verify`) " +
                 "against checkpoint " + report.checkpoint.size + "; signatures valid in this browser: " +
                 (signers.length ? signers.join(", ") : "none")));
  }

  function findingsList(report) {
    if (!report.findings.length) return el("p", { class: "muted" }, "No findings.");
    return el("ul", { class: "findings", id: "findings" },
              report.findings.map((f) => el("li", { "data-finding": f.finding },
                                            el("b", {}, f.finding), " (exit " + f.exit_code + "): " + f.reason)));
  }

  function facts(report) {
    const rows = [["serial", report.serial], ["model", report.model], ["holder", report.holder ? link("member", report.holder) : ""],
                  ["status", report.status], ["location", report.location], ["site", report.site],
                  ["packed in", report.unit ? link("chip", report.unit) : ""],
                  ["licenses", (report.licenses || []).map((l, i) => [i ? ", " : "", link("license", l)])]];
    return el("dl", { class: "facts" }, rows.filter((r) => r[1] && r[1].length !== 0)
      .map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  }

  function timeline(report, proven) {
    return el("ol", { class: "timeline", id: "timeline" }, report.chain.map((row) => {
      const p = proven.find((x) => x.index === row.index);
      const proof = p ? (p.ok ? el("span", { class: "proof ok" }, "included in the checkpoint's log (checked here)")
                              : el("span", { class: "proof failed" }, "inclusion proof FAILED in this browser"))
                      : el("span", { class: "proof failed" }, "not in the node's history answer");
      const detail = [];
      if (row.to) detail.push(" → ", link("member", row.to));
      if (row.ship_to) detail.push(" (ship to " + row.ship_to + ")");
      if (row.license) detail.push(" under license ", link("license", row.license));
      if (row.unit) detail.push(" unit ", link("chip", row.unit));
      if (row.site) detail.push(" at " + row.site);
      return el("li", { class: row.type, "data-index": row.index, "data-type": row.type },
                el("div", {}, el("b", {}, row.event), detail),
                el("div", { class: "when" }, when(row.time_ms), " · log index " + row.index + " · by ",
                   link("member", row.member), " (" + row.role + ", " + row.country + ")",
                   row.key_status !== "valid" ? " · key " + row.key_status : ""),
                proof);
    }));
  }

  // Where the chip went: the country it was registered in, each shipment's
  // destination and the country of whoever installed it, in order, at
  // country centroids on an equirectangular grid.
  function routeMap(report) {
    const stops = [];
    for (const row of report.chain) {
      const c = row.type === "transfer" ? row.ship_to
              : ["register", "install"].includes(row.type) ? row.country : "";
      if (c && PLACES[c] && stops[stops.length - 1] !== c) stops.push(c);
    }
    if (!stops.length) return null;
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 360 180");
    svg.setAttribute("class", "map");
    svg.setAttribute("id", "map");
    const add = (tag, attrs, text) => {
      const e = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      if (text) e.textContent = text;
      svg.append(e);
    };
    for (let lon = 0; lon <= 360; lon += 30) add("line", { x1: lon, y1: 0, x2: lon, y2: 180, class: "grid" });
    for (let lat = 0; lat <= 180; lat += 30) add("line", { x1: 0, y1: lat, x2: 360, y2: lat, class: "grid" });
    const xy = (c) => [PLACES[c][1] + 180, 90 - PLACES[c][0]];
    if (stops.length > 1) add("polyline", { points: stops.map((c) => xy(c).join(",")).join(" "), class: "route" });
    stops.forEach((c, i) => {
      const [x, y] = xy(c);
      add("circle", { cx: x, cy: y, r: 2.2, class: "place" });
      add("text", { x: x + 3, y: y - 2 }, (i + 1) + " " + c);
    });
    return svg;
  }

  async function chipPage(serial, show) {
    show(el("h1", {}, serial), el("p", { class: "muted" }, "Verifying…"));
    const v = await getJson("/v1/chips/" + encodeURIComponent(serial) + "/verdict");
    if (v.status !== 200 || !v.body) {
      show(el("h1", {}, serial), el("p", { class: "error", id: "error" },
                                     (v.body && v.body.error) || "HTTP " + v.status));
      return;
    }
    const report = v.body.report;
    const checks = el("ul", { class: "checks", id: "checks" });
    const check = (state, id, text) => checks.append(el("li", { class: state, "data-check": id, "data-state": state }, text));
    let proven = [];
    let signers = [];
    try {
      const trust = await trustRoot();
      const cp = await V.verifyCheckpoint(v.body.checkpoint, trust.ledgerId, trust.nodes, trust.quorum);
      signers = cp.signers.map((s) => s.id);
      const size = cp.checkpoint.size;
      let accepted = false;
      const ageSeconds = Math.max(0, Math.floor(Date.now() / 1000) - cp.freshAsOf);
      if (cp.problem) {
        check("failed", "checkpoint", cp.problem);
      } else if (!cp.met) {
        check("failed", "checkpoint", "checkpoint " + size + ": " + cp.signers.length +
              " valid node signature(s), quorum " + cp.quorum + " NOT met (against " + trust.source + ")");
      } else if (trust.maxAgeSeconds && ageSeconds > trust.maxAgeSeconds) {
        check("failed", "checkpoint", "checkpoint " + size + ": its quorum signed " + ageSeconds +
              " s ago, older than the policy's " + trust.maxAgeSeconds + " s: it may hide newer events");
      } else {
        accepted = true;
        check(trust.independent ? "ok" : "node-keys", "checkpoint",
              "checkpoint " + size + ": " + cp.signers.length + " valid node signature(s) (" + signers.join(", ") +
              "), quorum " + cp.quorum + " met, signed " + ageSeconds + " s ago; Ed25519 checked in this browser against " +
              trust.source);
      }
      if (report.checkpoint.size !== size || v.body.size !== size) {
        accepted = false;
        check("failed", "same-checkpoint", "the verdict was judged against checkpoint " + report.checkpoint.size +
              ", not the checkpoint " + size + " it came with");
      }
      if (!accepted) {
        check("unchecked", "inclusion", "no inclusion proof checked: no checkpoint accepted");
      } else {
        const h = await getJson("/v1/chips/" + encodeURIComponent(serial) + "/history?size=" + size);
        if (h.status === 200 && h.body) {
          proven = await V.verifyHistory(h.body, cp.checkpoint);
          const good = proven.filter((p) => p.ok).length;
          const indices = proven.map((p) => p.index);
          const distinct = new Set(indices).size === indices.length;
          check(good === proven.length && proven.length && distinct ? "ok" : "failed", "inclusion",
                good + " of " + proven.length + " event(s) proven in the checkpoint's log (RFC 9162 inclusion proofs, SHA-256 in this browser)");
          // One row per proven event, and each row is what its proven
          // bytes say: transaction id, type, author, time, ledger (and a
          // transfer's recipient and destination).
          const rows = report.chain.map((r) => r.index).sort((a, b) => a - b);
          const sameSet = distinct && rows.length === indices.length &&
                          [...indices].sort((a, b) => a - b).every((x, i) => x === rows[i]);
          const bad = report.chain.filter((row) => {
            const p = proven.find((x) => x.index === row.index);
            const t = p && p.ok && p.tx;
            return !t || t.txid !== row.txid || t.type !== row.type || t.author !== row.member ||
                   t.time_ms !== row.time_ms || t.ledgerId !== trust.ledgerId ||
                   (t.type === "transfer" && (t.to !== row.to || t.ship_to !== row.ship_to));
          });
          check(sameSet && !bad.length ? "ok" : "failed", "chain",
                sameSet && !bad.length
                  ? "each row of the chain is one proven event, its id, type, author and time decoded here from the proven bytes"
                  : "the chain does NOT match the proven events" +
                    (bad.length ? " (rows at index " + bad.map((r) => r.index).join(", ") + ")" : ""));
        } else if (h.status === 404) {
          check("unchecked", "inclusion", "the node lists no events for this serial; its absence proof is not checked here");
        } else {
          check("failed", "inclusion", "no history answer (HTTP " + h.status + ")");
        }
      }
    } catch (err) {
      check("failed", "browser", "the browser could not check: " + err.message);
    }
    check("unchecked", "rules",
          "not checked in this browser: the members' signatures on each event, the custody rules and completeness " +
          "(the state map proof) — the node's verifier checked them; for a verdict that holds against a lying node " +
          "run `chipledger verify " + serial + "`");
    const children = (report.children || []).length
      ? [el("h2", {}, "Packed in this unit"), el("ul", { id: "children" }, report.children.map((c) => el("li", {}, link("chip", c))))]
      : [];
    show(el("h1", {}, serial, report.model ? el("span", { class: "muted" }, " · " + report.model) : null),
         verdictBanner(report, signers), findingsList(report),
         el("h2", {}, "What this page checked"), checks,
         el("h2", {}, "Now"), facts(report), children,
         el("h2", {}, "Custody chain"), timeline(report, proven),
         el("h2", {}, "Route (registration, each shipment's destination, installation; at country centroids)"),
         routeMap(report));
  }

  async function memberPage(id, show) {
    const g = await getJson("/v1/governance");
    const c = g.body && g.body.consortium;
    const m = c && c.members.find((x) => x.id === id);
    if (!m) {
      show(el("h1", {}, id), el("p", { class: "error", id: "error" }, "no member " + id + " in the consortium in force"));
      return;
    }
    const nodes = c.nodes.filter((n) => n.member === id);
    show(el("h1", { id: "member" }, m.name || m.id),
         el("dl", { class: "facts" }, el("dt", {}, "id"), el("dd", {}, m.id), el("dt", {}, "roles"),
            el("dd", { id: "roles" }, (m.roles || []).join(", ")), el("dt", {}, "country"), el("dd", {}, m.country),
            el("dt", {}, "keys"), el("dd", {}, String((m.keys || []).length)),
            el("dt", {}, "nodes"), el("dd", {}, nodes.map((n) => n.id).join(", ") || "none")),
         el("p", { class: "muted" }, "As the node reports the consortium in force at log size " + g.body.size + "."));
  }

  async function licensePage(id, show) {
    const l = await getJson("/v1/licenses/" + encodeURIComponent(id));
    if (l.status !== 200 || !l.body) {
      show(el("h1", {}, id), el("p", { class: "error", id: "error" }, (l.body && l.body.error) || "HTTP " + l.status));
      return;
    }
    const rows = Object.entries(l.body).map(([k, v]) => {
      const shown = typeof v === "object" ? JSON.stringify(v) : String(v);
      const value = ["exporter", "recipient", "issuer"].includes(k) ? link("member", shown) : shown;
      return el("tr", { "data-field": k }, el("th", {}, k), el("td", {}, value));
    });
    show(el("h1", { id: "license" }, "License " + id), el("table", {}, rows),
         el("p", { class: "muted" }, "As this node's ledger records it (not verified in the browser)."));
  }

  async function homePage(show) {
    const g = await getJson("/v1/governance");
    const c = g.body && g.body.consortium;
    show(el("h1", {}, "Look up a chip"),
         el("p", {}, "Search a serial above: its custody chain, its verdict with findings, and what this browser checked."),
         c ? [el("h2", {}, "Members of " + c.ledger_id),
              el("table", { id: "members" }, el("tr", {}, el("th", {}, "member"), el("th", {}, "roles"), el("th", {}, "country")),
                 c.members.map((m) => el("tr", {}, el("td", {}, link("member", m.id, m.name || m.id)),
                                          el("td", {}, (m.roles || []).join(", ")), el("td", {}, m.country))))]
           : el("p", { class: "error" }, "the node gives no consortium"));
  }

  async function route() {
    const parts = location.hash.replace(/^#\/?/, "").split("/");
    const mine = ++generation;
    const show = showFor(mine);
    try {
      const arg = parts.length > 1 ? decodeURIComponent(parts.slice(1).join("/")) : "";
      if (parts[0] === "chip" && arg) {
        document.getElementById("serial").value = arg;
        await chipPage(arg, show);
      } else if (parts[0] === "member" && arg) await memberPage(arg, show);
      else if (parts[0] === "license" && arg) await licensePage(arg, show);
      else await homePage(show);
    } catch (err) {
      show(el("p", { class: "error", id: "error" }, "error: " + err.message));
    }
    if (mine === generation) document.body.setAttribute("data-ready", "1");
  }

  document.getElementById("search").addEventListener("submit", (e) => {
    e.preventDefault();
    const s = document.getElementById("serial").value.trim();
    if (s) location.hash = "#/chip/" + encodeURIComponent(s);
  });
  document.getElementById("trust-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    // A file that is not a trust file is refused in the page (no dialog)
    // and changes nothing: the keys in use stay what they were.
    const error = document.getElementById("trust-error");
    error.hidden = true;
    try {
      const t = JSON.parse(await file.text());
      if (!t.ledger_id || !Array.isArray(t.nodes) || !t.quorum) {
        throw new Error("it has no ledger_id, nodes and quorum");
      }
      localStorage.setItem(TRUST_KEY, JSON.stringify({ ledger_id: t.ledger_id, nodes: t.nodes, quorum: t.quorum,
                                                        policy: t.policy || {} }));
    } catch (err) {
      error.textContent = "Trust file " + file.name + " refused: not a chipledger trust file (" + err.message +
                          "); the keys in use are unchanged";
      error.hidden = false;
    }
    showTrustSource();
    route();
  });
  document.getElementById("trust-forget").addEventListener("click", () => {
    localStorage.removeItem(TRUST_KEY);
    showTrustSource();
    route();
  });
  window.addEventListener("hashchange", route);
  showTrustSource();
  // /explorer/?q=SERIAL searches as if typed into the box (a link others
  // can share; the browser test searches this way).
  const q = new URLSearchParams(location.search).get("q");
  if (q && !location.hash) {
    document.getElementById("serial").value = q;
    document.getElementById("search").requestSubmit();
  } else {
    route();
  }
})();
