// Settings / Users: the signed-in user's API tokens, and a new token's secret, shown once. The secret lives
// only in the "shown once" dialog: never in storage, a cookie or the URL, and it is cleared when the dialog closes.

import { SessionEnded, call } from './api.js';
import { confirmAction, openDialog } from './dialogs.js';
import { $, addDays, badge, cell, dateTimeFormat, element, localDate, timeElement } from './format.js';
import { busy, clearFormError, problemMessage, showFormError } from './forms.js';

/** The server's token policy (GET /api/tokens/policy); null when it could not be read. */
let policy = null;

export async function loadPolicy() {
  try {
    policy = await call('GET', '/api/tokens/policy');
  } catch (error) {
    if (error instanceof SessionEnded) return;
    policy = null; // the form then offers no "never"; the server decides anyway
  }
}

export function defaultLifetimeDays() {
  const max = policy ? policy.max_lifetime_days : null;
  return max === null || max === undefined ? 30 : Math.min(30, max);
}

function fillExpirationChoices() {
  const max = policy && policy.max_lifetime_days !== null && policy.max_lifetime_days !== undefined ? policy.max_lifetime_days : null;
  const presets = [[7, '7 days'], [30, '30 days'], [60, '60 days'], [90, '90 days'], [365, '1 year']]
    .filter(([days]) => max === null || days <= max);
  if (max !== null && !presets.some(([days]) => days === max)) presets.push([max, `${max} days (the longest allowed)`]);
  presets.sort((a, b) => a[0] - b[0]);
  const select = $('token-expiration');
  const options = presets.map(([days, label]) => new Option(label, String(days)));
  options.push(new Option('A date…', 'date'));
  if (policy && policy.never_expires_allowed) options.push(new Option('Never', 'never'));
  select.replaceChildren(...options);
  select.value = String(defaultLifetimeDays());
  const date = $('token-date');
  date.min = localDate(addDays(1));
  date.max = localDate(addDays((max === null ? (policy ? policy.max_days : 3650) : max) - 1));
  date.value = '';
  $('token-date-field').hidden = true;
}

$('token-expiration').addEventListener('change', () => {
  $('token-date-field').hidden = $('token-expiration').value !== 'date';
});

export async function loadTokens(first) {
  const status = $('tokens-status');
  const error = $('tokens-error');
  if (first) {
    $('tokens-table').hidden = true;
    status.textContent = 'Loading tokens…';
  }
  error.hidden = true;
  try {
    const page = await call('GET', '/api/tokens');
    renderTokens(page.items);
  } catch (failure) {
    if (failure instanceof SessionEnded) return;
    $('tokens-table').hidden = true;
    status.textContent = '';
    error.querySelector('.alert-text').textContent = `Could not load your tokens: ${failure.message}`;
    error.hidden = false;
  }
}

function renderTokens(items) {
  const body = $('tokens-body');
  const table = $('tokens-table');
  const status = $('tokens-status');
  if (!items.length) {
    body.replaceChildren();
    table.hidden = true;
    status.textContent = 'You have no tokens yet. Create one to call the API from scripts, notebooks or CI.';
    return;
  }
  status.textContent = '';
  body.replaceChildren(...items.map(tokenRow));
  table.hidden = false;
}

function tokenRow(token) {
  const row = element('tr');
  row.dataset.tokenId = token.id;
  row.append(
    cell(token.name, 'strong'),
    cell(token.description, 'muted'),
    cell(element('code', null, `${token.hint}…`)),
    cell(timeElement(token.created_at)),
    cell(token.expires_at ? timeElement(token.expires_at) : 'Never'),
    cell(lastUsed(token)),
    cell(badge(token.status, token.status)),
  );
  const actions = element('td', 'actions');
  if (token.status === 'active' || token.status === 'rotating') {
    const revoke = element('button', 'button-danger-quiet', 'Revoke');
    revoke.type = 'button';
    revoke.setAttribute('aria-label', `Revoke token ${token.name}`);
    revoke.addEventListener('click', () => confirmAction({
      title: 'Revoke this token?',
      text: `"${token.name}" stops working at once: anything that uses it gets 401 from its next request. This cannot be undone.`,
      okLabel: 'Revoke',
      opener: revoke,
      fallback: $('tokens-title'),
      action: async () => {
        await call('DELETE', `/api/tokens/${token.id}`);
        $('tokens-status').textContent = `Token "${token.name}" revoked.`;
        await loadTokens(false);
      },
    }));
    actions.append(revoke);
  }
  row.append(actions);
  return row;
}

function lastUsed(token) {
  if (!token.last_used_at) return 'Never';
  const wrap = element('span');
  wrap.append(timeElement(token.last_used_at));
  const from = [token.last_used_ip ? `from ${token.last_used_ip}` : null, token.last_used_via ? `via ${token.last_used_via}` : null]
    .filter(Boolean).join(' ');
  if (from) wrap.append(element('span', 'sub', from));
  return wrap;
}

$('create-token').addEventListener('click', () => {
  const form = $('token-form');
  form.reset();
  clearFormError(form);
  fillExpirationChoices();
  openDialog($('token-dialog'), $('create-token'));
  $('token-name').focus();
});

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearFormError(form);
  const name = $('token-name').value.trim();
  const description = $('token-description').value.trim();
  const expiration = $('token-expiration').value;
  const body = { name, description: description || null };
  if (!name) {
    showFormError(form, null, { name: ['Give the token a name, such as "dbt webhook" or "CI".'] }, { name: 'token-name' });
    return;
  }
  if (expiration === 'date') {
    const day = $('token-date').value;
    if (!day) {
      showFormError(form, null, { expires_at: ['Pick the day the token expires.'] }, { expires_at: 'token-date' });
      return;
    }
    body.expires_at = new Date(`${day}T23:59:59`).toISOString();
  } else if (expiration !== 'never') {
    body.expires_in_days = Number(expiration);
  }
  busy(form, async () => {
    try {
      const created = await call('POST', '/api/tokens', body);
      $('token-dialog').close();
      showSecret(created, null, $('create-token'));
      await loadTokens(false);
    } catch (error) {
      if (error instanceof SessionEnded) return;
      showFormError(form, problemMessage(error), error.problem && error.problem.errors,
        { name: 'token-name', description: 'token-description', expires_in_days: 'token-expiration', expires_at: 'token-date' });
    }
  });
});

$('tokens-retry').addEventListener('click', () => loadTokens(true));

// ---------------------------------------------------------------- the secret, shown once

export function showSecret(created, owner, opener) {
  $('secret-title').textContent = owner ? `New token for ${owner.name}` : 'Your new token';
  const expires = created.expires_at ? `It expires ${dateTimeFormat.format(new Date(created.expires_at))}.` : 'It never expires.';
  $('secret-owner').textContent = owner
    ? `"${created.name}" for ${owner.email}: it acts with their role. ${expires}`
    : `"${created.name}". ${expires}`;
  $('secret-owner').hidden = false;
  $('secret-value').value = created.token;
  $('copy-status').textContent = '';
  openDialog($('secret-dialog'), opener, $('tokens-title'));
  $('copy-secret').focus();
}

$('secret-dialog').addEventListener('close', () => {
  $('secret-value').value = '';
  $('copy-status').textContent = '';
});

$('copy-secret').addEventListener('click', async () => {
  const input = $('secret-value');
  const status = $('copy-status');
  try {
    await navigator.clipboard.writeText(input.value);
    status.textContent = 'Copied to the clipboard.';
  } catch {
    input.focus();
    input.select();
    let copied = false;
    try {
      copied = document.execCommand('copy');
    } catch {
      copied = false;
    }
    status.textContent = copied ? 'Copied to the clipboard.' : 'Selected: press Ctrl+C (⌘C on a Mac) to copy.';
  }
});

$('secret-value').addEventListener('focus', (event) => event.currentTarget.select());
