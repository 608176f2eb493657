// Settings / Users: the DOM and formatting helpers every section uses.

/** The element with that id. */
export const $ = (id) => document.getElementById(id);

export const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'always' });
const nowFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

const DAY = 24 * 3600;

/** [unit, its length in seconds, from how many seconds on it is used]: days up to 45, then months, then years. */
const units = [
  ['year', 365 * DAY, 365 * DAY],
  ['month', 30 * DAY, 45 * DAY],
  ['day', DAY, DAY],
  ['hour', 3600, 3600],
  ['minute', 60, 60],
];

/** "in 6 days", "2 minutes ago", "in 3 months": the largest unit that fits, rounded. */
export function relativeTime(date, now = Date.now()) {
  const seconds = (date.getTime() - now) / 1000;
  const size = Math.abs(seconds);
  if (size < 45) return nowFormat.format(0, 'second'); // "now"
  for (const [unit, length, from] of units) {
    if (size >= from) return relativeFormat.format(Math.round(seconds / length), unit);
  }
  return relativeFormat.format(Math.round(seconds), 'second');
}

/** A point in time: relative ("in 6 days") as the text, the local date and time as the tooltip. */
export function timeElement(iso) {
  const node = element('time');
  const date = new Date(iso);
  node.dateTime = iso;
  node.title = dateTimeFormat.format(date);
  node.dataset.relative = '';
  node.textContent = relativeTime(date);
  return node;
}

/** A point in time as the local date and time, with the relative time as the tooltip. */
export function absoluteTimeElement(iso) {
  const node = element('time');
  const date = new Date(iso);
  node.dateTime = iso;
  node.textContent = dateTimeFormat.format(date);
  node.title = relativeTime(date);
  return node;
}

/** Keeps the relative times current while the page stays open. */
setInterval(() => {
  for (const node of document.querySelectorAll('time[data-relative]')) node.textContent = relativeTime(new Date(node.dateTime));
}, 30_000);

/** A table cell; `label` is its column's name, which the narrow layout shows beside the value. */
export function cell(content, className, label) {
  const td = element('td', className);
  if (label) td.dataset.label = label;
  if (content instanceof Node) td.append(content);
  else td.textContent = content === null || content === undefined || content === '' ? '—' : content;
  return td;
}

export function badge(text, kind) {
  return element('span', `badge badge-${kind}`, text);
}

export function localDate(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export function addDays(days) {
  const date = new Date();
  date.setDate(date.getDate() + days);
  return date;
}
