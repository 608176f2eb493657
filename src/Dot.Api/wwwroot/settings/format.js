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

export function timeElement(iso) {
  const node = element('time');
  node.dateTime = iso;
  node.title = iso;
  node.textContent = dateTimeFormat.format(new Date(iso));
  return node;
}

export function cell(content, className) {
  const td = element('td', className);
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
