/* How the analytics view writes numbers, rates, trends and days. */

export function num(value) {
  return typeof value === "number" && isFinite(value) ? value : null;
}

export function count(value) {
  const n = num(value);
  return n === null ? "0" : n.toLocaleString();
}

export function plural(n, one, many) {
  return count(n) + " " + (num(n) === 1 ? one : many);
}

export function percent(rate) {
  const n = num(rate);
  return n === null ? "–" : (Math.round(n * 1000) / 10).toLocaleString() + " %";
}

/** part/whole in percent with one decimal, or null. */
export function ratio(part, whole) {
  const p = num(part);
  const w = num(whole);
  return p === null || !w ? null : Math.round((p / w) * 1000) / 10;
}

export function trendText(trend) {
  const n = num(trend);
  if (n === null) return { arrow: "", text: "–", label: "no trend" };
  const rounded = Math.round(n * 100);
  const arrow = rounded > 0 ? "↑" : rounded < 0 ? "↓" : "→";
  const text = Math.abs(rounded) + " %"; // the arrow says which way
  const label = rounded > 0 ? "rising " + rounded + " %" : rounded < 0 ? "falling " + -rounded + " %" : "steady";
  return { arrow: arrow, text: text, label: label };
}

export function isoDay(d) {
  const m = d.getMonth() + 1;
  const day = d.getDate();
  return d.getFullYear() + "-" + (m < 10 ? "0" : "") + m + "-" + (day < 10 ? "0" : "") + day;
}

function dayFromIso(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text || ""));
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
}

export function dayLabel(text, withYear) {
  const d = dayFromIso(text);
  if (!d) return String(text || "");
  const options = withYear ? { day: "numeric", month: "short", year: "numeric" } : { day: "numeric", month: "short" };
  try {
    return d.toLocaleDateString(undefined, options);
  } catch {
    return String(text);
  }
}
