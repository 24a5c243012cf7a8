/* The analytics view (admins): a date range, key figures, tables, charts and CSV links
 * (GET analytics, analytics.csv). State: `c.analytics`. */

import { API } from "./api.js";
import { destroyCharts, renderCharts } from "./charts.js";
import { $, el, formatWhen, mmss, valueText } from "./dom.js";
import { clearError, handleError } from "./notices.js";
import { count, dayLabel, isoDay, num, percent, plural, trendText } from "./numbers.js";
import { isAdmin } from "./session.js";
import { showView } from "./view.js";

const TABLES = ["table-intents", "table-reasons", "table-zero", "table-ratings", "table-days"];
const DEFAULT_DAYS = 28; // the server's default range

export function createAnalyticsState() {
  return {
    report: null, // the report shown
    request: 0, // drops stale reports
    charts: {}, // canvas id -> Chart
  };
}

export function showConsole(c, byUser) {
  showView(c, "console");
  const openId = c.conv.openId;
  history.replaceState(null, "", openId ? "#c=" + encodeURIComponent(openId) : location.pathname + location.search);
  if (byUser) $("tab-console").focus();
}

export function openAnalytics(c, byUser) {
  if (!isAdmin(c.session)) return;
  showView(c, "analytics");
  if (location.hash !== "#analytics") history.replaceState(null, "", "#analytics");
  if (!c.analytics.report) {
    if (!$("range-from").value && !$("range-to").value) setLastDays(DEFAULT_DAYS);
    loadAnalytics(c);
  }
  if (byUser) $("analytics-title").focus();
}

export function resetAnalytics(c) {
  c.analytics.report = null;
  c.analytics.request += 1;
  destroyCharts(c.analytics.charts);
  $("kpis").replaceChildren();
  TABLES.forEach(function (id) {
    $(id).tBodies[0].replaceChildren();
  });
  $("analytics-status").textContent = "";
  $("range-from").value = "";
  $("range-to").value = "";
}

function setLastDays(days) {
  const today = new Date();
  const from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - (days - 1));
  $("range-from").value = isoDay(from);
  $("range-to").value = isoDay(today);
}

export function quickRange(c, days) {
  setLastDays(days);
  loadAnalytics(c);
}

function rangeQuery(from, to) {
  const parts = [];
  if (from) parts.push("from=" + encodeURIComponent(from));
  if (to) parts.push("to=" + encodeURIComponent(to));
  return parts.join("&");
}

export function loadAnalytics(c) {
  const query = rangeQuery($("range-from").value, $("range-to").value);
  const request = ++c.analytics.request;
  clearError(c);
  $("analytics-status").textContent = "Loading…";
  return c
    .api("GET", "analytics" + (query ? "?" + query : ""))
    .then(function (data) {
      if (request !== c.analytics.request || !c.session.agent) return;
      c.analytics.report = data;
      renderAnalytics(c, data);
    })
    .catch(function (err) {
      if (request !== c.analytics.request) return;
      $("analytics-status").textContent = "";
      handleError(c, err);
    });
}

function renderAnalytics(c, data) {
  const totals = data.totals || {};
  const days = Array.isArray(data.days) ? data.days : [];
  // what the agent typed meanwhile stays; empty fields show the range the server chose
  if (!$("range-from").value) $("range-from").value = data.from || "";
  if (!$("range-to").value) $("range-to").value = data.to || "";
  $("analytics-status").textContent =
    "From " + dayLabel(data.from, true) + " to " + dayLabel(data.to, true) +
    " (" + days.length + (days.length === 1 ? " day)" : " days)");

  const query = rangeQuery(data.from, data.to);
  const links = $("analytics-view").querySelectorAll("a.csv");
  for (let i = 0; i < links.length; i += 1) {
    links[i].href = API + "analytics.csv?" + query + "&table=" + encodeURIComponent(links[i].dataset.table);
  }
  renderKpis(totals);
  renderAnalyticsTables(data, days);
  renderCharts(c.analytics.charts, data, days);
}

function renderKpis(t) {
  const avg = num(t.rating_average);
  const shareText = num(t.rated_share) !== null ? ", " + percent(t.rated_share) + " of conversations" : "";
  const wait = num(t.agent_wait_p50_s);
  const timedOut = num(t.handoffs_timed_out) ? ", " + count(t.handoffs_timed_out) + " timed out" : "";
  const tiles = [
    ["conversations", "Conversations", count(t.conversations), "in this range"],
    ["containment", "Contained", percent(t.containment_rate), count(t.contained) + " finished without a person"],
    ["handoff", "Handed to a person", percent(t.handoff_rate), plural(t.handoffs, "handoff", "handoffs") + timedOut],
    ["fallback", "Not understood", percent(t.fallback_rate),
      count(t.fallbacks) + " of " + plural(t.shopper_messages, "shopper message", "shopper messages")],
    ["zero-results", "Searches with no results", percent(t.zero_result_rate),
      count(t.zero_result_searches) + " of " + plural(t.searches, "search", "searches")],
    ["rating", "Average rating", avg === null ? "–" : avg.toFixed(1) + " ★", plural(t.ratings, "rating", "ratings") + shareText],
    ["reply", "Bot reply time", num(t.reply_p50_ms) === null ? "–" : count(Math.round(t.reply_p50_ms)) + " ms",
      num(t.reply_p95_ms) === null ? "median" : "median; 95 % within " + count(Math.round(t.reply_p95_ms)) + " ms"],
    ["wait", "Wait for an agent", wait === null ? "–" : mmss(wait), "median, minutes:seconds"],
  ];
  const box = $("kpis");
  box.replaceChildren();
  tiles.forEach(function (tile) {
    const div = el("div", "kpi");
    div.setAttribute("data-testid", "analytics-kpi-" + tile[0]);
    div.appendChild(el("dt", "kpi-label", tile[1]));
    const value = el("dd", "kpi-value", tile[2]);
    value.setAttribute("data-testid", "analytics-kpi-value");
    div.appendChild(value);
    div.appendChild(el("dd", "kpi-detail", tile[3]));
    box.appendChild(div);
  });
}

function fillTable(id, rows, columns) {
  const body = $(id).tBodies[0];
  body.replaceChildren();
  if (!rows.length) {
    const tr = el("tr", "empty-row");
    const td = el("td", null, "Nothing in this range.");
    td.colSpan = columns;
    tr.appendChild(td);
    body.appendChild(tr);
    return;
  }
  rows.forEach(function (cells) {
    const tr = el("tr");
    cells.forEach(function (cell, index) {
      const td = el(index === 0 ? "th" : "td", cell.className || null, cell.text);
      if (index === 0) td.scope = "row";
      if (cell.label) td.setAttribute("aria-label", cell.label);
      tr.appendChild(td);
    });
    body.appendChild(tr);
  });
}

function numeric(value) {
  return { text: count(value), className: "num" };
}

function renderAnalyticsTables(data, days) {
  const intents = Array.isArray(data.top_intents) ? data.top_intents : [];
  fillTable("table-intents", intents.map(function (row) {
    const trend = trendText(row.trend);
    return [
      { text: valueText(row.intent) },
      numeric(row.count),
      { text: percent(row.share), className: "num" },
      { text: (trend.arrow ? trend.arrow + " " : "") + trend.text, className: "num trend", label: trend.label },
    ];
  }), 4);
  const reasons = Array.isArray(data.handoff_reasons) ? data.handoff_reasons : [];
  fillTable("table-reasons", reasons.map(function (row) {
    return [{ text: valueText(row.reason) || "(no reason)" }, numeric(row.count)];
  }), 2);
  const zero = Array.isArray(data.zero_result_queries) ? data.zero_result_queries : [];
  fillTable("table-zero", zero.map(function (row) {
    return [{ text: valueText(row.query) }, numeric(row.count), { text: formatWhen(row.last_at) }];
  }), 3);
  const ratings = data.ratings && typeof data.ratings === "object" ? data.ratings : {};
  fillTable("table-ratings", ["5", "4", "3", "2", "1"].map(function (stars) {
    return [{ text: stars + " ★", label: stars + (stars === "1" ? " star" : " stars") }, numeric(ratings[stars])];
  }), 2);
  fillTable("table-days", days.map(function (d) {
    const avg = num(d.rating_average);
    return [
      { text: dayLabel(d.date, true) },
      numeric(d.conversations),
      numeric(d.contained),
      numeric(d.handoffs),
      numeric(d.shopper_messages),
      numeric(d.fallbacks),
      numeric(d.searches),
      numeric(d.zero_result_searches),
      numeric(d.ratings),
      { text: avg === null ? "–" : avg.toFixed(1), className: "num" },
      { text: num(d.reply_p50_ms) === null ? "–" : count(Math.round(d.reply_p50_ms)), className: "num" },
      { text: num(d.reply_p95_ms) === null ? "–" : count(Math.round(d.reply_p95_ms)), className: "num" },
    ];
  }), 12);
}
