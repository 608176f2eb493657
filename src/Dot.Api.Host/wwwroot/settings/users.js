// Settings / Users: sign-in, first run, the signed-in user's API tokens (tokens.js), and (admins) all users
// (admin.js). ES modules, no build step: this one is the page's entry point. It talks to the same /api endpoints
// as any client, with the session cookie and the anti-forgery token (api.js).

import { api, applySession, call, onSessionEnded, SessionEnded, state } from './api.js';
import { loadUsers, onOwnRoleChanged } from './admin.js';
import { $ } from './format.js';
import { busy, clearFormError, problemMessage, showFormError } from './forms.js';
import { closeMenu } from './menu.js';
import { loadPolicy, loadTokens } from './tokens.js';

/** True while the page goes back to the sign-in form after a 401, so that it does so once. */
let ending = false;

// ---------------------------------------------------------------- views

const views = ['loading', 'setup-view', 'signin-view', 'app-view'];

function show(view) {
  for (const id of views) $(id).hidden = id !== view;
  $('page-error').hidden = true;
  $('whoami').hidden = view !== 'app-view';
}

function showPageError(message) {
  for (const id of views) $(id).hidden = true;
  $('page-error-text').textContent = message;
  $('page-error').hidden = false;
  $('page-retry').focus();
}

async function boot(notice) {
  show('loading');
  let session;
  try {
    session = await api('GET', '/api/session');
  } catch (error) {
    showPageError(`Could not load the page: ${error.message}`);
    return;
  }
  applySession(session);
  ending = false;
  if (session.user) {
    await showApp();
  } else if (session.setup_required) {
    showSetup(session);
  } else {
    showSignIn(notice);
  }
}

function sessionEnded() {
  if (ending) return;
  ending = true;
  closeMenu(false);
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
  boot('Your session has ended. Sign in again.');
}

function showSignIn(notice) {
  show('signin-view');
  const form = $('signin-form');
  clearFormError(form);
  $('signin-notice').textContent = notice || '';
  $('signin-notice').hidden = !notice;
  $('signin-email').focus();
}

function showSetup(session) {
  show('setup-view');
  $('setup-key-field').hidden = !session.setup_key_required;
  $('setup-not-allowed').hidden = session.setup_allowed;
  $('setup-form').hidden = !session.setup_allowed;
  $('setup-cli-hint').hidden = !session.setup_allowed; // the refusal names the command itself
  if (session.setup_allowed) $('setup-email').focus();
}

async function showApp() {
  show('app-view');
  const user = state.user;
  $('whoami-text').textContent = `${user.name} · ${user.email} · ${user.role}`;
  const admin = user.role === 'admin';
  $('users-section').hidden = !admin;
  $('main').focus();
  await Promise.all([loadPolicy(), loadTokens(true), admin ? loadUsers(true) : null]);
}

// ---------------------------------------------------------------- sign-in, first run, sign-out

$('signin-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearFormError(form);
  const email = $('signin-email').value.trim();
  const password = $('signin-password').value;
  if (!email || !password) {
    showFormError(form, 'Enter your email and your password.');
    (email ? $('signin-password') : $('signin-email')).focus();
    return;
  }
  busy(form, async () => {
    try {
      const session = await api('POST', '/api/session/sign-in', { email, password });
      $('signin-password').value = '';
      applySession(session);
      await showApp();
    } catch (error) {
      if (error.status === 403 && error.problem && error.problem.reason === 'antiforgery_token_invalid') {
        applySession(await api('GET', '/api/session'));
        showFormError(form, 'The page was out of date. Please sign in again.');
        return;
      }
      $('signin-password').value = '';
      showFormError(form, error.message);
      $('signin-password').focus();
    }
  });
});

$('setup-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearFormError(form);
  const body = {
    email: $('setup-email').value.trim(),
    name: $('setup-name').value.trim() || null,
    password: $('setup-password').value,
    setup_key: $('setup-key-field').hidden ? null : $('setup-key').value,
  };
  busy(form, async () => {
    try {
      const session = await api('POST', '/api/session/setup', body);
      $('setup-password').value = '';
      $('setup-key').value = '';
      applySession(session);
      await showApp();
    } catch (error) {
      if (error.status === 409) {
        await boot('Setup is already done. Sign in.');
        return;
      }
      showFormError(form, problemMessage(error), error.problem && error.problem.errors,
        { email: 'setup-email', name: 'setup-name', password: 'setup-password', setup_key: 'setup-key' },
        { email: 'Email', name: 'Name', password: 'Password', setup_key: 'Setup key' });
    }
  });
});

$('sign-out').addEventListener('click', async () => {
  try {
    await call('POST', '/api/session/sign-out');
  } catch (error) {
    if (error instanceof SessionEnded) return;
  }
  await boot('You are signed out.');
});

$('page-retry').addEventListener('click', () => boot());

onSessionEnded(sessionEnded);
onOwnRoleChanged(() => boot());
boot();
