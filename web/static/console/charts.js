/* The analytics charts (Chart.js, loaded as a classic script before the modules: window.Chart).
 * Without it the view shows the tables only. Each chart's canvas carries a sentence that says
 * what it shows, for a screen reader. `charts` maps a canvas id to its Chart. */

import { $, valueText } from "./dom.js";
import { count, dayLabel, num, percent, ratio, trendText } from "./numbers.js";

const COLORS = {
  contained: "#2f6b3a",
  handoff: "#a35200",
  other: "#8b93a3",
  fallback: "#b3261e",
  zero: "#1f5fbf",
  bars: "#1f5fbf",
  p95: "#a35200",
};

export function destroyCharts(charts) {
  Object.keys(charts).forEach(function (id) {
    charts[id].destroy();
    delete charts[id];
  });
}

function chartsAvailable() {
  const ok = typeof window.Chart === "function";
  $("charts").hidden = !ok;
  $("charts-missing").hidden = ok;
  if (!ok) $("days-details").open = true;
  return ok;
}

function drawChart(charts, id, config, label) {
  if (charts[id]) charts[id].destroy();
  const canvas = $(id);
  canvas.setAttribute("aria-label", label);
  config.options = Object.assign(
    { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { position: "bottom" } } },
    config.options || {}
  );
  try {
    charts[id] = new window.Chart(canvas, config);
  } catch {
    delete charts[id];
  }
}

function line(label, color, values) {
  return { label: label, data: values, borderColor: color, backgroundColor: color, spanGaps: true, tension: 0.2, pointRadius: 2 };
}

function ms(value) {
  return num(value) === null ? "not known" : count(Math.round(value)) + " ms";
}

export function renderCharts(charts, data, days) {
  if (!chartsAvailable()) return;
  const t = data.totals || {};
  const labels = days.map((d) => dayLabel(d.date, false));
  const range = dayLabel(data.from, true) + " to " + dayLabel(data.to, true);
  const whole = { precision: 0 };

  const other = days.map(function (d) {
    return Math.max(0, (num(d.conversations) || 0) - (num(d.contained) || 0) - (num(d.handoffs) || 0));
  });
  const volume = [
    { label: "Contained", data: days.map((d) => num(d.contained) || 0), backgroundColor: COLORS.contained },
    { label: "Handed off", data: days.map((d) => num(d.handoffs) || 0), backgroundColor: COLORS.handoff },
  ];
  if (other.some((n) => n > 0)) {
    volume.push({ label: "Other", data: other, backgroundColor: COLORS.other });
  }
  drawChart(
    charts,
    "chart-volume",
    {
      type: "bar",
      data: { labels: labels, datasets: volume },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: whole } } },
    },
    "Conversations per day, " + range + ": " + count(t.conversations) + " in all, " + count(t.contained) +
      " contained and " + count(t.handoffs) + " handed off."
  );

  drawChart(
    charts,
    "chart-rates",
    {
      type: "line",
      data: {
        labels: labels,
        datasets: [
          line("Handoff rate", COLORS.handoff, days.map((d) => ratio(d.handoffs, d.conversations))),
          line("Fallback rate", COLORS.fallback, days.map((d) => ratio(d.fallbacks, d.shopper_messages))),
          line("Zero-result rate", COLORS.zero, days.map((d) => ratio(d.zero_result_searches, d.searches))),
        ],
      },
      options: {
        scales: { y: { beginAtZero: true, suggestedMax: 100, ticks: { callback: (v) => v + " %" } } },
      },
    },
    "Rates per day, " + range + ": handoffs " + percent(t.handoff_rate) + " of conversations, fallbacks " +
      percent(t.fallback_rate) + " of shopper messages, searches with no results " + percent(t.zero_result_rate) + "."
  );

  const intents = (Array.isArray(data.top_intents) ? data.top_intents : []).slice(0, 10);
  const intentsLabel = intents.length
    ? "Top intents, " + range + ": " +
      intents
        .slice(0, 5)
        .map((row) => valueText(row.intent) + " " + count(row.count) + " (" + trendText(row.trend).label + ")")
        .join(", ") +
      "."
    : "Top intents: none in this range.";
  drawChart(
    charts,
    "chart-intents",
    {
      type: "bar",
      data: {
        labels: intents.map(function (row) {
          const trend = trendText(row.trend);
          return valueText(row.intent) + (trend.arrow ? " " + trend.arrow + " " + trend.text : "");
        }),
        datasets: [{ label: "Messages", data: intents.map((row) => num(row.count) || 0), backgroundColor: COLORS.bars }],
      },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: whole } } },
    },
    intentsLabel
  );

  const ratings = data.ratings && typeof data.ratings === "object" ? data.ratings : {};
  const stars = ["1", "2", "3", "4", "5"];
  drawChart(
    charts,
    "chart-ratings",
    {
      type: "bar",
      data: {
        labels: stars.map((s) => s + " ★"),
        datasets: [{ label: "Ratings", data: stars.map((s) => num(ratings[s]) || 0), backgroundColor: COLORS.contained }],
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: whole } } },
    },
    "Ratings, " + range + ": " + stars.slice().reverse().map((s) => s + " stars " + count(ratings[s])).join(", ") + "."
  );

  drawChart(
    charts,
    "chart-replies",
    {
      type: "line",
      data: {
        labels: labels,
        datasets: [
          line("Median (p50)", COLORS.bars, days.map((d) => num(d.reply_p50_ms))),
          line("95th percentile", COLORS.p95, days.map((d) => num(d.reply_p95_ms))),
        ],
      },
      options: { scales: { y: { beginAtZero: true, ticks: { callback: (v) => v + " ms" } } } },
    },
    "Bot reply time per day, " + range + ": median " + ms(t.reply_p50_ms) + ", 95th percentile " + ms(t.reply_p95_ms) + "."
  );
}
