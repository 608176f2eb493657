// Settings / Users: token lists (the signed-in user's, and for admins any user's), with create, rotate and
// revoke, and a new token's secret, shown once. The secret lives only in the "shown once" dialog (and, for
// Copy API Token, the clipboard): never in storage, a cookie or the URL, and it is cleared when the dialog closes.

import { SessionEnded, call, state } from './api.js';
import { confirmAction, openDialog } from './dialogs.js';
import { $, absoluteTimeElement, addDays, badge, cell, dateTimeFormat, element, localDate, timeElement } from './format.js';
import { busy, clearFormError, problemMessage, showFormError } from './forms.js';

/** A token that expires within this long is marked "expires soon". */
const SOON_MS = 7 * 24 * 3600 * 1000;

/** The token form's words for the API's fields, so that its errors speak them. */
const TOKEN_LABELS = {
  name: 'Name', description: 'Description', expires_in_days: 'Expiration', expires_at: 'Expiration', user_id: 'User',
  scopes: 'Access', allowed_ips: 'Allowed addresses',
};
const TOKEN_INPUTS = {
  name: 'token-name', description: 'token-description', expires_in_days: 'token-expiration', expires_at: 'token-date',
  allowed_ips: 'token-allowed-ips',
};

/** The scope vocabulary (API.md §2) that Custom offers, with what each lets a token do. `profile` every token has. */
const SCOPES = [
  ['profile', 'read its own profile (/api/auth/me)'],
  ['tokens', "the owner's own tokens"],
  ['users', 'users'],
  ['connections', 'connections and their catalogues'],
  ['sync', 'trigger and read sync runs, of every connection'],
  ['assets', 'external assets'],
  ['history', 'export conversation history'],
  ['chats', 'chats, messages and labels'],
  ['audit', 'the audit log'],
];

const ACCESS_HINTS = {
  full: 'Everything the owner\'s role allows, as it is now.',
  webhook: 'For a dbt Cloud webhook or a scheduler: it can only trigger and read the syncs of one connection.',
  history: 'Only export conversation history (GET /api/export_history), within the owner\'s role.',
  custom: 'Only the scopes you tick, within the owner\'s role.',
};

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

function defaultLifetimeDays() {
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

// ---------------------------------------------------------------- access: presets, scopes, allowed addresses

$('token-scopes').append(...SCOPES.map(([scope, what]) => {
  const label = element('label', 'check');
  const box = element('input');
  box.type = 'checkbox';
  box.name = 'scope';
  box.value = scope;
  if (scope === 'profile') {
    box.checked = true;
    box.disabled = true;
    box.dataset.always = '';
  }
  label.append(box, ' ', element('code', null, scope), ` — ${what}`);
  return label;
}));

function showAccess() {
  const access = $('token-access').value;
  $('token-connection-field').hidden = access !== 'webhook';
  $('token-scopes-field').hidden = access !== 'custom';
  $('token-access-hint').textContent = ACCESS_HINTS[access] || '';
}

$('token-access').addEventListener('change', showAccess);

/** The access choices: the webhook preset only for admins, who alone can list (and sync) connections. */
function fillAccessChoices() {
  const admin = state.user && state.user.role === 'admin';
  $('token-access').querySelector('option[value="webhook"]').hidden = !admin;
  $('token-access').querySelector('option[value="webhook"]').disabled = !admin;
  $('token-access').value = 'full';
  for (const box of $('token-scopes').querySelectorAll('input')) box.checked = box.dataset.always !== undefined;
  showAccess();
  if (admin) loadConnections();
}

/** Fills the webhook preset's connection select from GET /api/connections, every page of it. */
async function loadConnections() {
  const select = $('token-connection');
  select.replaceChildren(new Option('Loading connections…', ''));
  select.disabled = true;
  try {
    const connections = [];
    let cursor = null;
    do {
      const query = cursor ? `?limit=200&cursor=${encodeURIComponent(cursor)}` : '?limit=200';
      const page = await call('GET', `/api/connections${query}`);
      connections.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    const options = connections.map((c) => new Option(`${c.name || c.id} (${c.type}/${c.id})`, `sync:${c.type}/${c.id}`));
    select.replaceChildren(...(options.length ? options : [new Option('No connections yet: add one first', '')]));
    select.disabled = !options.length;
  } catch (error) {
    if (error instanceof SessionEnded) return;
    select.replaceChildren(new Option(`Could not load the connections: ${error.message}`, ''));
  }
}

/** The scopes the form asks for: undefined for full access (the field is left out), else a list. */
function chosenScopes() {
  switch ($('token-access').value) {
    case 'webhook': return $('token-connection').value ? [$('token-connection').value] : [];
    case 'history': return ['history'];
    // profile, which every token has, is not a choice: the server adds it.
    case 'custom': return [...$('token-scopes').querySelectorAll('input:checked:not([data-always])')].map((box) => box.value);
    default: return undefined;
  }
}

/** The allowed addresses, split at commas, spaces and new lines; undefined (any address) when there are none. */
function chosenAddresses() {
  const list = $('token-allowed-ips').value.split(/[\s,]+/).filter(Boolean);
  return list.length ? list : undefined;
}

/** The input a `scopes` error belongs to, for the preset that was chosen. */
function scopesInput() {
  switch ($('token-access').value) {
    case 'webhook': return 'token-connection';
    case 'custom': return 'token-scopes-field';
    default: return 'token-access';
  }
}

/** "full access", or the token's scopes (but profile, which every token has); "any address", or its allowed ones. */
function access(token) {
  const wrap = element('span', 'access');
  const scopes = token.scopes || ['*'];
  const full = scopes.includes('*');
  const shown = scopes.filter((scope) => scope !== 'profile');
  const what = element('span', 'token-scopes');
  if (full) what.textContent = 'full access';
  else if (!shown.length) what.textContent = 'profile only';
  else what.append(...shown.flatMap((scope, i) => (i ? [', ', element('code', null, scope)] : [element('code', null, scope)])));
  if (!full) what.title = `Scopes: ${scopes.join(', ')}`;
  const ips = token.allowed_ips && token.allowed_ips.length ? token.allowed_ips : null;
  const where = element('span', 'sub token-ips', ips ? `from ${ips.join(', ')}` : 'any address');
  wrap.append(what, where);
  return wrap;
}

// ---------------------------------------------------------------- token lists

/**
 * A token list in `host`, cloned from the page's template: a status line, the active and rotating tokens, and
 * the revoked and expired ones apart, in a collapsed section. `owner` null means the signed-in user.
 */
function tokenList(host, fallback) {
  host.replaceChildren($('token-list-template').content.cloneNode(true));
  const part = (name) => host.querySelector(`.${name}`);
  const list = {
    owner: null,
    fallback,
    status: part('tokens-status'),
    error: part('tokens-error'),
    activeWrap: part('tokens-active-wrap'),
    activeBody: part('tokens-active-body'),
    inactive: part('tokens-inactive'),
    inactiveBody: part('tokens-inactive-body'),
    inactiveCount: part('tokens-inactive-count'),
  };
  list.load = (first, notice) => loadList(list, first, notice);
  part('tokens-retry').addEventListener('click', () => list.load(true));
  return list;
}

const ownTokens = tokenList($('tokens-list'), $('tokens-title'));
// The ids tests and the docs know the signed-in user's list by.
ownTokens.status.id = 'tokens-status';
ownTokens.error.id = 'tokens-error';
ownTokens.activeWrap.querySelector('table').id = 'tokens-table';
ownTokens.activeBody.id = 'tokens-body';
ownTokens.inactive.id = 'tokens-inactive';
ownTokens.inactiveBody.id = 'tokens-inactive-body';
ownTokens.activeWrap.querySelector('caption').textContent = 'Your API tokens';

const userTokens = tokenList($('user-tokens-list'), $('user-tokens-title'));
userTokens.inactive.id = 'user-tokens-inactive';

export function loadTokens(first, notice) {
  return ownTokens.load(first, notice);
}

/** Reloads every list that shows this owner's tokens (null: the signed-in user). */
async function reloadFor(ownerId, except, notice) {
  const self = state.user ? state.user.id : null;
  const work = [];
  if (ownTokens !== except && (ownerId === null || ownerId === self)) work.push(ownTokens.load(false, notice));
  if (userTokens !== except && $('user-tokens-dialog').open && userTokens.owner
    && (userTokens.owner.id === ownerId || (ownerId === null && userTokens.owner.id === self))) {
    work.push(userTokens.load(false, notice));
  }
  await Promise.all(work);
}

async function loadList(list, first, notice) {
  if (first) {
    list.activeWrap.hidden = true;
    list.inactive.hidden = true;
    list.inactive.open = false;
    list.status.textContent = 'Loading tokens…';
  }
  list.error.hidden = true;
  const path = list.owner ? `/api/tokens?user_id=${encodeURIComponent(list.owner.id)}` : '/api/tokens';
  try {
    const page = await call('GET', path);
    renderList(list, page.items, notice);
  } catch (failure) {
    if (failure instanceof SessionEnded) return;
    list.activeWrap.hidden = true;
    list.inactive.hidden = true;
    list.status.textContent = '';
    list.error.querySelector('.alert-text').textContent = list.owner
      ? `Could not load the tokens of ${list.owner.email}: ${failure.message}`
      : `Could not load your tokens: ${failure.message}`;
    list.error.hidden = false;
  }
}

const isLive = (token) => token.status === 'active' || token.status === 'rotating';

function renderList(list, items, notice) {
  const now = Date.now();
  list.items = items;
  const live = items.filter(isLive);
  const gone = items.filter((token) => !isLive(token));
  list.activeBody.replaceChildren(...live.map((token) => tokenRow(list, token, now)));
  list.activeWrap.hidden = !live.length;
  list.inactiveBody.replaceChildren(...gone.map((token) => tokenRow(list, token, now)));
  list.inactiveCount.textContent = String(gone.length);
  list.inactive.hidden = !gone.length;
  let empty = '';
  if (!live.length) {
    const who = list.owner ? `${list.owner.email} has` : 'You have';
    empty = gone.length
      ? `${who} no active tokens.`
      : `${who} no tokens yet.${list.owner ? '' : ' Create one to call the API from scripts, notebooks or CI.'}`;
  }
  // A message about what was just done (revoked, rotated) stays until the next change of the list.
  list.status.textContent = [notice, empty].filter(Boolean).join(' ');
}

function tokenRow(list, token, now) {
  const row = element('tr');
  row.dataset.tokenId = token.id;
  row.append(
    cell(token.name, 'strong', 'Name'),
    cell(token.description, 'muted', 'Description'),
    cell(element('code', null, `${token.hint}…`), null, 'Token'),
    cell(timeElement(token.created_at), null, 'Created'),
    cell(expires(token, now), null, 'Expires'),
    cell(lastUsed(token), null, 'Last used'),
    cell(status(token), null, 'Status'),
    cell(access(token), null, 'Access'),
  );
  const actions = element('td', 'actions');
  const buttons = element('div', 'row-actions');
  if (token.status === 'active') buttons.append(rotateButton(list, token));
  if (isLive(token)) buttons.append(revokeButton(list, token));
  if (buttons.childElementCount) actions.append(buttons);
  row.append(actions);
  return row;
}

function expires(token, now) {
  // A rotated-out secret stops at the end of its grace (or at its expiry, if that comes first): that is its end.
  if (token.status === 'rotating' && token.grace_ends_at
    && (!token.expires_at || new Date(token.grace_ends_at) < new Date(token.expires_at))) {
    const wrap = element('span', 'expires');
    wrap.append(timeElement(token.grace_ends_at), element('span', 'sub', 'end of the rotation grace'));
    return wrap;
  }
  if (!token.expires_at) return 'Never';
  const wrap = element('span', 'expires');
  wrap.append(timeElement(token.expires_at));
  const left = new Date(token.expires_at).getTime() - now;
  if (isLive(token) && left > 0 && left <= SOON_MS) {
    const soon = badge('expires soon', 'soon');
    soon.title = 'This token stops working within 7 days: rotate it, or create a new one.';
    wrap.append(' ', soon);
  }
  return wrap;
}

function status(token) {
  const wrap = element('span');
  wrap.append(badge(token.status, token.status));
  if (token.status === 'rotating' && token.grace_ends_at) {
    const until = element('span', 'sub', 'old secret works until ');
    until.append(absoluteTimeElement(token.grace_ends_at));
    wrap.append(until);
  }
  return wrap;
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

function revokeButton(list, token) {
  const revoke = element('button', 'button-danger-quiet', 'Revoke');
  revoke.type = 'button';
  revoke.setAttribute('aria-label', `Revoke token ${token.name}`);
  const whose = list.owner ? ` (${list.owner.email})` : '';
  // Revoking ends the rotation family (API.md §2): the rotated-out secrets of this token still in their grace stop too.
  const family = token.status === 'active'
    ? (list.items || []).filter((other) => other.id !== token.id && other.status === 'rotating' && other.name === token.name)
    : [];
  const also = family.length
    ? ` Its rotated-out secret${family.length > 1 ? 's' : ''} (${family.map((t) => `${t.hint}…`).join(', ')}), still in grace, stop${family.length > 1 ? '' : 's'} at once too.`
    : '';
  const successor = token.status === 'rotating' ? ' Its successor, the newer secret, keeps working.' : '';
  revoke.addEventListener('click', () => confirmAction({
    title: 'Revoke this token?',
    text: `"${token.name}"${whose} stops working at once: anything that uses it gets 401 from its next request.${also}${successor} This cannot be undone.`,
    okLabel: 'Revoke',
    opener: revoke,
    fallback: list.fallback,
    action: async () => {
      await call('DELETE', `/api/tokens/${token.id}`);
      const notice = `Token "${token.name}" revoked.`;
      await list.load(false, notice);
      await reloadFor(token.user_id, list);
    },
  }));
  return revoke;
}

// ---------------------------------------------------------------- rotate

let rotating = null;

function rotateButton(list, token) {
  const rotate = element('button', 'button-quiet', 'Rotate');
  rotate.type = 'button';
  rotate.setAttribute('aria-label', `Rotate token ${token.name}`);
  rotate.addEventListener('click', () => {
    rotating = { list, token, opener: rotate };
    const form = $('rotate-form');
    form.reset();
    clearFormError(form);
    $('rotate-title').textContent = `Rotate "${token.name}"?`;
    $('rotate-text').textContent = `A new secret replaces the one that starts ${token.hint}…, with the same name, description`
      + `${list.owner ? ', owner' : ''} and lifetime length. The new secret is shown once.`;
    openDialog($('rotate-dialog'), rotate, list.fallback);
    $('rotate-grace').focus();
  });
  return rotate;
}

$('rotate-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearFormError(form);
  if (!rotating) return;
  const { list, token, opener } = rotating;
  const grace = Number($('rotate-grace').value);
  busy(form, async () => {
    try {
      const created = await call('POST', `/api/tokens/${token.id}/rotate`, { grace_period_minutes: grace });
      $('rotate-dialog').close();
      const until = dateTimeFormat.format(new Date(Date.now() + grace * 60_000));
      const old = grace ? `The old secret works until ${until}.` : 'The old secret has stopped working.';
      showSecret(created, list.owner, opener, { note: `"${created.name}" was rotated: this is its new secret. ${old}` });
      await list.load(false, `Token "${token.name}" rotated. ${old}`);
      await reloadFor(token.user_id, list);
    } catch (error) {
      if (error instanceof SessionEnded) return;
      showFormError(form, error.status === 409
        ? 'This token was rotated or revoked meanwhile: only an active token can be rotated.'
        : error.message);
      await list.load(false);
    }
  });
});

// ---------------------------------------------------------------- create, and Copy API Token for a user

/** Whose token the token dialog creates: null for the signed-in user, or a user (Copy API Token). */
let tokenFor = null;
let tokenOpener = null;

/** Opens the token form: for yourself (Create New Token), or, for an admin, for `owner` (Copy API Token). */
export function openTokenDialog(owner, opener) {
  tokenFor = owner;
  tokenOpener = opener;
  const form = $('token-form');
  form.reset();
  clearFormError(form);
  fillExpirationChoices();
  fillAccessChoices();
  $('token-dialog-title').textContent = owner ? 'Copy API Token' : 'Create New Token';
  $('token-dialog-owner').textContent = owner
    ? `A new token for ${owner.email}${owner.kind === 'service' ? ' (a service account)' : ''}: it acts with their role, within the access you choose. It is copied to your clipboard when it is made.`
    : '';
  $('token-dialog-owner').hidden = !owner;
  $('token-submit').textContent = owner ? 'Create and copy' : 'Create token';
  if (owner) {
    $('token-name').value = `API token ${localDate(new Date())}`;
    $('token-description').value = `Created for ${owner.email} by ${state.user.email} in Settings / Users.`;
  }
  openDialog($('token-dialog'), opener, owner ? $('users-title') : $('tokens-title'));
  $('token-name').focus();
  if (owner) $('token-name').select();
}

$('create-token').addEventListener('click', () => openTokenDialog(null, $('create-token')));

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearFormError(form);
  const owner = tokenFor;
  const opener = tokenOpener;
  const name = $('token-name').value.trim();
  const description = $('token-description').value.trim();
  const expiration = $('token-expiration').value;
  const body = { name, description: description || null };
  if (owner) body.user_id = owner.id;
  const scopes = chosenScopes();
  if (scopes) body.scopes = scopes;
  const allowedIps = chosenAddresses();
  if (allowedIps) body.allowed_ips = allowedIps;
  const inputs = { ...TOKEN_INPUTS, scopes: scopesInput() };
  if (!name) {
    showFormError(form, null, { name: ['Give the token a name, such as "dbt webhook" or "CI".'] }, TOKEN_INPUTS);
    return;
  }
  if (scopes && !scopes.length) {
    showFormError(form, null, { scopes: [$('token-access').value === 'webhook'
      ? 'Pick the connection the webhook syncs (add one first if there is none).'
      : 'Tick at least one scope.'] }, inputs, TOKEN_LABELS);
    return;
  }
  if (expiration === 'date') {
    const day = $('token-date').value;
    if (!day) {
      showFormError(form, null, { expires_at: ['Pick the day the token expires.'] }, TOKEN_INPUTS);
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
      if (owner) {
        showSecret(created, owner, opener, { copying: true });
        await copySecret();
      } else {
        showSecret(created, null, opener);
      }
      await reloadFor(created.user_id, null);
    } catch (error) {
      if (error instanceof SessionEnded) return;
      if (error.status === 409) {
        const who = owner ? `${owner.email} already has` : 'You already have';
        showFormError(form, null, { name: [`${who} an active token named "${name}". Choose another name, or revoke or rotate that token.`] }, TOKEN_INPUTS);
        return;
      }
      showFormError(form, problemMessage(error), error.problem && error.problem.errors, inputs, TOKEN_LABELS);
    }
  });
});

// ---------------------------------------------------------------- a user's tokens (admins)

/** Opens the tokens of `user` in a dialog, with rotate and revoke on each. */
export function openUserTokens(user, opener) {
  userTokens.owner = user;
  $('user-tokens-title').textContent = `Tokens of ${user.email}`;
  $('user-tokens-create').setAttribute('aria-label', `Create a token for ${user.email}`);
  openDialog($('user-tokens-dialog'), opener, $('users-title'));
  $('user-tokens-title').focus();
  return userTokens.load(true);
}

$('user-tokens-create').addEventListener('click', () => {
  if (userTokens.owner) openTokenDialog(userTokens.owner, $('user-tokens-create'));
});

// ---------------------------------------------------------------- the secret, shown once

export function showSecret(created, owner, opener, { note, copying } = {}) {
  $('secret-title').textContent = owner ? `New token for ${owner.name || owner.email}` : 'Your new token';
  const expires = created.expires_at ? `It expires ${dateTimeFormat.format(new Date(created.expires_at))}.` : 'It never expires.';
  const about = owner ? `"${created.name}" for ${owner.email}: it acts with their role.` : `"${created.name}".`;
  $('secret-owner').textContent = note ? `${note} ${expires}` : `${about} ${expires}`;
  $('secret-owner').hidden = false;
  $('secret-value').value = created.token;
  $('copy-status').textContent = copying ? 'Copying to the clipboard…' : '';
  openDialog($('secret-dialog'), opener, owner ? $('users-title') : $('tokens-title'));
  $('copy-secret').focus();
}

$('secret-dialog').addEventListener('close', () => {
  $('secret-value').value = '';
  $('copy-status').textContent = '';
});

/** Copies the secret with the clipboard API; where that fails, selects it for Ctrl+C and says so. */
async function copySecret() {
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
    status.textContent = copied
      ? 'Copied to the clipboard.'
      : 'Could not copy it automatically. It is selected: press Ctrl+C (⌘C on a Mac) to copy.';
  }
}

$('copy-secret').addEventListener('click', copySecret);

$('secret-value').addEventListener('focus', (event) => event.currentTarget.select());
