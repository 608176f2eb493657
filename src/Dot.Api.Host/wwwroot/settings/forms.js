// Settings / Users: a form's error alert (with the field errors of a 422) and its busy state.

import { $, element } from './format.js';

export function clearFormError(form) {
  const box = form.querySelector('.form-error');
  box.hidden = true;
  box.replaceChildren();
  for (const field of form.querySelectorAll('[aria-invalid]')) field.removeAttribute('aria-invalid');
  for (const note of form.querySelectorAll('.field-error')) {
    const input = note.dataset.for && $(note.dataset.for);
    if (input) {
      const rest = (input.getAttribute('aria-describedby') || '').split(' ').filter((id) => id && id !== note.id);
      if (rest.length) input.setAttribute('aria-describedby', rest.join(' '));
      else input.removeAttribute('aria-describedby');
    }
    note.remove();
  }
}

let noteCount = 0;

/** The field's own error line, under its input (inside its .field), which the input is then described by. */
function noteAt(input, lines) {
  const field = input.closest('.field');
  if (!field || !input.id) return;
  const note = element('p', 'field-error', lines.join(' '));
  note.id = `field-error-${++noteCount}`;
  note.dataset.for = input.id;
  field.append(note);
  input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), note.id].filter(Boolean).join(' '));
}

/**
 * An API message in the form's words: each API field name in it (expires_in_days) becomes the form's label
 * (Expiration); a message that names no label is prefixed with its field's label ("Name: …").
 */
export function inFormWords(field, message, labels) {
  if (!labels) return message;
  let text = message;
  for (const [name, label] of Object.entries(labels)) {
    text = text.replace(new RegExp(`\\b${name}\\b`, 'g'), label);
  }
  const own = labels[field];
  return own && !text.includes(own) ? `${own}: ${text}` : text;
}

/**
 * Shows a message, and the field errors of a 422, in the form's alert; marks and focuses the first bad field.
 * `fieldMap` maps an API field to its input's id; `labels` maps it to the label the form shows for it.
 */
export function showFormError(form, message, fieldErrors, fieldMap, labels) {
  const box = form.querySelector('.form-error');
  const lines = [];
  let first = null;
  if (fieldErrors) {
    for (const [field, messages] of Object.entries(fieldErrors)) {
      const words = messages.map((line) => inFormWords(field, line, labels));
      lines.push(...words);
      const input = (fieldMap && fieldMap[field] && $(fieldMap[field])) || form.elements.namedItem(field);
      if (input && input.setAttribute) {
        input.setAttribute('aria-invalid', 'true');
        noteAt(input, words);
        // A group (a fieldset of checkboxes) takes focus on its first usable box.
        const focusable = input.tagName === 'FIELDSET' ? input.querySelector('input:not(:disabled)') : input;
        first = first || focusable;
      }
    }
  }
  const text = document.createElement('p');
  text.textContent = lines.length ? 'Please correct:' : message;
  box.replaceChildren(text);
  if (lines.length) {
    const list = document.createElement('ul');
    for (const line of lines) list.append(element('li', null, line));
    box.append(list);
  }
  box.hidden = false;
  if (first) first.focus();
}

export function problemMessage(error) {
  return error.problem && error.problem.errors ? null : error.message;
}

export async function busy(form, work) {
  const buttons = form.querySelectorAll('button');
  for (const button of buttons) button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    await work();
  } finally {
    for (const button of buttons) button.disabled = false;
    form.removeAttribute('aria-busy');
  }
}
