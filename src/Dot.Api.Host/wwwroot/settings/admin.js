// Settings / Users: all users, for admins: add one, change a role, disable or enable, set a password, see and
// revoke or rotate their tokens, copy an API token for one.

import { SessionEnded, call, state } from './api.js';
import { confirmAction, openDialog } from './dialogs.js';
import { $, badge, cell, element } from './format.js';
import { busy, clearFormError, problemMessage, showFormError } from './forms.js';
import { actionsMenu } from './menu.js';
import { openTokenDialog, openUserTokens } from './tokens.js';

/** Reloads the page's session, when an admin changes their own role: the page sets it to going back to the start. */
let reload = async () => {};

export function onOwnRoleChanged(handler) {
  reload = handler;
}

export async function loadUsers(first) {
  const status = $('users-status');
  const error = $('users-error');
  if (first) {
    $('users-table').hidden = true;
    status.textContent = 'Loading users…';
  }
  error.hidden = true;
  try {
    const users = [];
    let cursor = null;
    do {
      const query = cursor ? `?limit=200&cursor=${encodeURIComponent(cursor)}` : '?limit=200';
      const page = await call('GET', `/api/users${query}`);
      users.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    if (first) status.textContent = '';
    renderUsers(users);
  } catch (failure) {
    if (failure instanceof SessionEnded) return;
    $('users-table').hidden = true;
    status.textContent = '';
    error.querySelector('.alert-text').textContent = failure.status === 403
      ? 'Only admins can see the users.'
      : `Could not load the users: ${failure.message}`;
    error.hidden = false;
  }
}

function renderUsers(users) {
  $('users-body').replaceChildren(...users.map(userRow));
  $('users-table').hidden = false;
}

function userRow(user) {
  const self = state.user && user.id === state.user.id;
  const row = element('tr');
  row.dataset.userId = user.id;
  row.dataset.email = user.email;
  const service = user.kind === 'service';
  const email = element('span', null, user.email);
  if (service) {
    const mark = badge('service', 'service');
    mark.title = 'A service account: no one signs in as it; admins manage its tokens.';
    email.append(' ', mark);
  }
  if (self) email.append(element('span', 'sub', '(you)'));
  row.append(
    cell(email, null, 'Email'),
    cell(user.name, null, 'Name'),
    cell(badge(user.role, `role-${user.role}`), null, 'Role'),
    cell(user.disabled ? badge('disabled', 'revoked') : badge('active', 'active'), null, 'Status'),
    cell(service ? 'not used' : user.has_password ? 'set' : 'none', user.has_password ? null : 'muted', 'Password'),
  );
  const items = [
    { label: 'Copy API Token', action: (opener) => openTokenDialog(user, opener) },
    { label: 'Change role…', action: (opener) => openRoleDialog(user, opener) },
  ];
  if (!self) {
    // A service account has no password: it signs in with its tokens only.
    if (!service) items.push({ label: user.has_password ? 'Change password…' : 'Set password…', action: (opener) => openPasswordDialog(user, opener) });
    items.push(user.disabled
      ? { label: 'Enable user', action: (opener) => setDisabled(user, false, opener) }
      : { label: 'Disable user', action: (opener) => setDisabled(user, true, opener) });
  }
  const actions = element('td', 'actions');
  const wrap = element('div', 'row-actions');
  const tokens = element('button', 'button-quiet', 'Tokens');
  tokens.type = 'button';
  tokens.setAttribute('aria-label', `Tokens of ${user.email}`);
  tokens.addEventListener('click', () => openUserTokens(user, tokens));
  wrap.append(tokens, actionsMenu(`Actions for ${user.email}`, items));
  actions.append(wrap);
  row.append(actions);
  return row;
}

function setDisabled(user, disabled, opener) {
  confirmAction({
    title: disabled ? `Disable ${user.email}?` : `Enable ${user.email}?`,
    text: disabled
      ? 'They are signed out and every one of their tokens stops working at once, until an admin enables them again.'
      : 'They can sign in again, and their tokens that have not expired or been revoked work again.',
    okLabel: disabled ? 'Disable' : 'Enable',
    opener,
    fallback: $('users-title'),
    action: async () => {
      await call('PATCH', `/api/users/${user.id}`, { disabled });
      $('users-status').textContent = `${user.email} is now ${disabled ? 'disabled' : 'enabled'}.`;
      await loadUsers(false);
    },
  });
}

// Change role: a small dialog, so a keyboard user browsing the options changes nothing by accident.
let roleTarget = null;

function openRoleDialog(user, opener) {
  roleTarget = user;
  $('role-dialog-title').textContent = `Change the role of ${user.email}`;
  $('role-select').value = user.role;
  clearFormError($('role-form'));
  openDialog($('role-dialog'), opener, $('users-title'));
  $('role-select').focus();
}

$('role-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const dialog = $('role-dialog');
  const user = roleTarget;
  clearFormError(form);
  const role = $('role-select').value;
  if (!user || role === user.role) {
    dialog.close();
    return;
  }
  busy(form, async () => {
    try {
      await call('PATCH', `/api/users/${user.id}`, { role });
      dialog.close();
      if (state.user && user.id === state.user.id) {
        await reload();
        return;
      }
      $('users-status').textContent = `${user.email} is now ${role}.`;
      await loadUsers(false);
    } catch (error) {
      if (error instanceof SessionEnded) return;
      showFormError(form, error.message);
    }
  });
});

/** Whether the user dialog adds a service account (no password) or a person. */
let addingService = false;

function openUserDialog(service, opener) {
  addingService = service;
  const form = $('user-form');
  form.reset();
  clearFormError(form);
  $('user-dialog-title').textContent = service ? 'Add service account' : 'Add user';
  $('user-submit').textContent = service ? 'Add service account' : 'Add user';
  $('user-email-label').textContent = service ? 'Handle (an email)' : 'Email';
  $('user-email-hint').hidden = !service;
  $('user-service-hint').hidden = !service;
  $('user-password-field').hidden = service;
  $('user-email').placeholder = service ? 'dbt-cloud@service.local' : '';
  openDialog($('user-dialog'), opener);
  $('user-email').focus();
}

$('add-user').addEventListener('click', () => openUserDialog(false, $('add-user')));
$('add-service').addEventListener('click', () => openUserDialog(true, $('add-service')));

$('user-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearFormError(form);
  const body = {
    email: $('user-email').value.trim(),
    name: $('user-name').value.trim() || null,
    role: $('user-role').value,
  };
  if (addingService) body.kind = 'service';
  else body.password = $('user-password').value || null;
  const service = addingService;
  busy(form, async () => {
    try {
      await call('POST', '/api/users', body);
      $('user-dialog').close();
      $('users-status').textContent = service
        ? `${body.email} was added as a service account (${body.role}). Create its tokens with Tokens, on its row.`
        : `${body.email} was added as ${body.role}.`;
      await loadUsers(false);
    } catch (error) {
      if (error instanceof SessionEnded) return;
      if (error.status === 409) {
        showFormError(form, null, { email: [`A user with the email ${body.email} already exists.`] }, { email: 'user-email' });
        return;
      }
      showFormError(form, problemMessage(error), error.problem && error.problem.errors,
        { email: 'user-email', name: 'user-name', role: 'user-role', password: 'user-password', kind: 'user-email' },
        { email: service ? 'Handle' : 'Email', name: 'Name', role: 'Role', password: 'Password', kind: 'Kind' });
    }
  });
});

// Set password: for this page's sign-in; the user's web sessions end, their tokens keep working.
let passwordTarget = null;

function openPasswordDialog(user, opener) {
  passwordTarget = user;
  const form = $('password-form');
  form.reset();
  clearFormError(form);
  $('password-dialog-title').textContent = `${user.has_password ? 'Change the password' : 'Set a password'} for ${user.email}`;
  $('password-username').value = user.email;
  openDialog($('password-dialog'), opener, $('users-title'));
  $('password-value').focus();
}

$('password-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const user = passwordTarget;
  clearFormError(form);
  const password = $('password-value').value;
  if (!user) return;
  if (password.length < 8) {
    showFormError(form, null, { password: ['The password needs at least 8 characters.'] }, { password: 'password-value' });
    return;
  }
  busy(form, async () => {
    try {
      await call('PATCH', `/api/users/${user.id}`, { password });
      $('password-value').value = '';
      $('password-dialog').close();
      $('users-status').textContent = `The password of ${user.email} is set. They sign in to this page with it.`;
      await loadUsers(false);
    } catch (error) {
      if (error instanceof SessionEnded) return;
      showFormError(form, problemMessage(error), error.problem && error.problem.errors,
        { password: 'password-value' }, { password: 'New password' });
    }
  });
});

$('password-dialog').addEventListener('close', () => {
  $('password-value').value = '';
});

$('users-retry').addEventListener('click', () => loadUsers(true));
