// Settings / Users: modal dialogs (focus in, and back to the opener when they close) and the confirmation dialog.

import { SessionEnded } from './api.js';
import { $ } from './format.js';
import { clearFormError, showFormError } from './forms.js';

const returnTo = new WeakMap();

/** Opens a modal dialog; focus goes into it, and back to `opener` (or `fallback`) when it closes. */
export function openDialog(dialog, opener, fallback) {
  returnTo.set(dialog, { opener: opener || document.activeElement, fallback: fallback || $('main') });
  dialog.showModal();
}

for (const dialog of document.querySelectorAll('dialog')) {
  dialog.addEventListener('close', () => {
    const target = returnTo.get(dialog);
    returnTo.delete(dialog);
    if (!target) return;
    const back = target.opener && target.opener.isConnected && !target.opener.closest('[hidden]') ? target.opener : target.fallback;
    // Under another dialog still open (a user's tokens), focus goes back only to something inside that one; a
    // dialog that replaces this one (the secret after a form) sets focus itself.
    const open = [...document.querySelectorAll('dialog[open]')].pop();
    if (open && !(back && open.contains(back))) return;
    if (back) back.focus();
  });
  for (const button of dialog.querySelectorAll('[data-close]')) {
    button.addEventListener('click', () => dialog.close());
  }
}

/** Asks before an action; runs it in the dialog, which shows its error if it fails. */
export function confirmAction({ title, text, okLabel, opener, fallback, action }) {
  const dialog = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = okLabel;
  clearFormError(dialog);
  const ok = $('confirm-ok');
  const fresh = ok.cloneNode(true); // drops the previous action's listener
  ok.replaceWith(fresh);
  fresh.addEventListener('click', async () => {
    fresh.disabled = true;
    try {
      await action();
      dialog.close();
    } catch (error) {
      if (!(error instanceof SessionEnded)) showFormError(dialog, error.message);
    } finally {
      fresh.disabled = false;
    }
  });
  openDialog(dialog, opener, fallback);
  dialog.querySelector('[data-close]').focus();
}
