// Settings / Users: sign-in, first run, the signed-in user's API tokens, and (admins) all users.
// Plain script, no build step. It talks to the same /api endpoints as any client, with the session
// cookie and the anti-forgery token in the X-CSRF-TOKEN header. A new token's secret lives only in
// the "shown once" dialog: never in storage, a cookie or the URL, and it is cleared when the dialog closes.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  const state = {
    csrf: null,
    csrfHeader: 'X-CSRF-TOKEN',
    user: null,
    policy: null,
    ending: false,
  };

  // ---------------------------------------------------------------- HTTP

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || (status ? `The server answered ${status}.` : 'The server could not be reached.'));
      this.status = status;
      this.problem = problem || null;
    }
  }

  /** Thrown after a 401: the page has already gone back to the sign-in form. */
  class SessionEnded extends Error {}

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && state.csrf) headers[state.csrfHeader] = state.csrf;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
        redirect: 'error',
      });
    } catch {
      throw new ApiError(0, { detail: 'The server could not be reached. Check the connection and try again.' });
    }
    if (response.status === 204) return null;
    const type = response.headers.get('Content-Type') || '';
    const data = type.includes('json') ? await response.json().catch(() => null) : null;
    if (response.ok) return data;
    throw new ApiError(response.status, data);
  }

  /** A call made with the session: a 401 sends the user to the sign-in form; a stale anti-forgery token is renewed once. */
  async function call(method, path, body) {
    try {
      return await api(method, path, body);
    } catch (error) {
      if (error.status === 401) {
        sessionEnded();
        throw new SessionEnded();
      }
      if (error.status === 403 && error.problem && error.problem.reason === 'antiforgery_token_invalid') {
        const session = await api('GET', '/api/session');
        applySession(session);
        if (!session.user) {
          sessionEnded();
          throw new SessionEnded();
        }
        return api(method, path, body);
      }
      throw error;
    }
  }

  function applySession(session) {
    state.csrf = session.antiforgery_token;
    state.csrfHeader = session.antiforgery_header || 'X-CSRF-TOKEN';
    state.user = session.user;
  }

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
    state.ending = false;
    if (session.user) {
      await showApp();
    } else if (session.setup_required) {
      showSetup(session);
    } else {
      showSignIn(notice);
    }
  }

  function sessionEnded() {
    if (state.ending) return;
    state.ending = true;
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

  // ---------------------------------------------------------------- forms

  function clearFormError(form) {
    const box = form.querySelector('.form-error');
    box.hidden = true;
    box.replaceChildren();
    for (const field of form.querySelectorAll('[aria-invalid]')) field.removeAttribute('aria-invalid');
  }

  /** Shows a message, and the field errors of a 422, in the form's alert; marks and focuses the first bad field. */
  function showFormError(form, message, fieldErrors, fieldMap) {
    const box = form.querySelector('.form-error');
    const lines = [];
    let first = null;
    if (fieldErrors) {
      for (const [field, messages] of Object.entries(fieldErrors)) {
        lines.push(...messages);
        const input = (fieldMap && fieldMap[field] && $(fieldMap[field])) || form.elements.namedItem(field);
        if (input && input.setAttribute) {
          input.setAttribute('aria-invalid', 'true');
          first = first || input;
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

  function problemMessage(error) {
    return error.problem && error.problem.errors ? null : error.message;
  }

  async function busy(form, work) {
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
        showFormError(form, error.status === 401 ? 'Wrong email or password.' : error.message);
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
          { email: 'setup-email', name: 'setup-name', password: 'setup-password' });
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

  // ---------------------------------------------------------------- dialogs

  const returnTo = new WeakMap();

  /** Opens a modal dialog; focus goes into it, and back to `opener` (or `fallback`) when it closes. */
  function openDialog(dialog, opener, fallback) {
    returnTo.set(dialog, { opener: opener || document.activeElement, fallback: fallback || $('main') });
    dialog.showModal();
  }

  for (const dialog of document.querySelectorAll('dialog')) {
    dialog.addEventListener('close', () => {
      const target = returnTo.get(dialog);
      returnTo.delete(dialog);
      if (!target || document.querySelector('dialog[open]')) return;
      const back = target.opener && target.opener.isConnected && !target.opener.closest('[hidden]') ? target.opener : target.fallback;
      if (back) back.focus();
    });
    for (const button of dialog.querySelectorAll('[data-close]')) {
      button.addEventListener('click', () => dialog.close());
    }
  }

  /** Asks before an action; runs it in the dialog, which shows its error if it fails. */
  function confirmAction({ title, text, okLabel, opener, fallback, action }) {
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

  // ---------------------------------------------------------------- formatting

  const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function timeElement(iso) {
    const node = element('time');
    node.dateTime = iso;
    node.title = iso;
    node.textContent = dateTimeFormat.format(new Date(iso));
    return node;
  }

  function cell(content, className) {
    const td = element('td', className);
    if (content instanceof Node) td.append(content);
    else td.textContent = content === null || content === undefined || content === '' ? '—' : content;
    return td;
  }

  function badge(text, kind) {
    return element('span', `badge badge-${kind}`, text);
  }

  function localDate(date) {
    const pad = (n) => String(n).padStart(2, '0');
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  }

  function addDays(days) {
    const date = new Date();
    date.setDate(date.getDate() + days);
    return date;
  }

  // ---------------------------------------------------------------- tokens

  async function loadPolicy() {
    try {
      state.policy = await call('GET', '/api/tokens/policy');
    } catch (error) {
      if (error instanceof SessionEnded) return;
      state.policy = null; // the form then offers no "never"; the server decides anyway
    }
  }

  function defaultLifetimeDays() {
    const max = state.policy ? state.policy.max_lifetime_days : null;
    return max === null || max === undefined ? 30 : Math.min(30, max);
  }

  function fillExpirationChoices() {
    const policy = state.policy;
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

  async function loadTokens(first) {
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

  // ---------------------------------------------------------------- the secret, shown once

  function showSecret(created, owner, opener) {
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

  // ---------------------------------------------------------------- users (admins)

  async function loadUsers(first) {
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
    const email = element('span', null, user.email);
    if (self) email.append(element('span', 'sub', '(you)'));
    row.append(
      cell(email),
      cell(user.name),
      cell(badge(user.role, `role-${user.role}`)),
      cell(user.disabled ? badge('disabled', 'revoked') : badge('active', 'active')),
    );
    const items = [
      { label: 'Copy API Token', action: (opener) => copyTokenFor(user, opener) },
      { label: 'Change role…', action: (opener) => openRoleDialog(user, opener) },
    ];
    if (!self) {
      items.push(user.disabled
        ? { label: 'Enable user', action: (opener) => setDisabled(user, false, opener) }
        : { label: 'Disable user', action: (opener) => setDisabled(user, true, opener) });
    }
    const actions = element('td', 'actions');
    actions.append(actionsMenu(`Actions for ${user.email}`, items));
    row.append(actions);
    return row;
  }

  async function copyTokenFor(user, opener) {
    const today = localDate(new Date());
    const body = {
      user_id: user.id,
      name: `API token ${today}`,
      description: `Created for ${user.email} by ${state.user.email} in Settings / Users.`,
      expires_in_days: defaultLifetimeDays(),
    };
    try {
      const created = await call('POST', '/api/tokens', body);
      showSecret(created, user, opener);
      if (state.user && user.id === state.user.id) await loadTokens(false);
    } catch (error) {
      if (error instanceof SessionEnded) return;
      showUsersError(`Could not create a token for ${user.email}: ${error.message}`);
    }
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

  function showUsersError(message) {
    const error = $('users-error');
    error.querySelector('.alert-text').textContent = message;
    error.hidden = false;
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
          await boot();
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

  $('add-user').addEventListener('click', () => {
    const form = $('user-form');
    form.reset();
    clearFormError(form);
    openDialog($('user-dialog'), $('add-user'));
    $('user-email').focus();
  });

  $('user-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearFormError(form);
    const body = {
      email: $('user-email').value.trim(),
      name: $('user-name').value.trim() || null,
      role: $('user-role').value,
      password: $('user-password').value || null,
    };
    busy(form, async () => {
      try {
        await call('POST', '/api/users', body);
        $('user-dialog').close();
        $('users-status').textContent = `${body.email} was added as ${body.role}.`;
        await loadUsers(false);
      } catch (error) {
        if (error instanceof SessionEnded) return;
        showFormError(form, problemMessage(error), error.problem && error.problem.errors,
          { email: 'user-email', name: 'user-name', role: 'user-role', password: 'user-password' });
      }
    });
  });

  $('tokens-retry').addEventListener('click', () => loadTokens(true));
  $('users-retry').addEventListener('click', () => loadUsers(true));

  // ---------------------------------------------------------------- the actions menu (···)

  let openMenu = null;
  let menuCount = 0;

  function actionsMenu(label, items) {
    const wrap = element('div', 'menu-wrap');
    const button = element('button', 'menu-button', '···');
    button.type = 'button';
    button.setAttribute('aria-label', label);
    button.setAttribute('aria-haspopup', 'menu');
    button.setAttribute('aria-expanded', 'false');
    const menu = element('div', 'menu');
    menu.id = `menu-${++menuCount}`;
    menu.setAttribute('role', 'menu');
    menu.setAttribute('aria-label', label);
    menu.hidden = true;
    button.setAttribute('aria-controls', menu.id);
    const entries = items.map((item) => {
      const entry = element('button', 'menu-item', item.label);
      entry.type = 'button';
      entry.setAttribute('role', 'menuitem');
      entry.tabIndex = -1;
      entry.addEventListener('click', () => {
        closeMenu(false);
        item.action(button);
      });
      return entry;
    });
    menu.append(...entries);

    const open = (focusLast) => {
      closeMenu(false);
      menu.hidden = false;
      button.setAttribute('aria-expanded', 'true');
      openMenu = { menu, button };
      (focusLast ? entries[entries.length - 1] : entries[0]).focus();
    };
    button.addEventListener('click', () => (openMenu && openMenu.menu === menu ? closeMenu(true) : open(false)));
    button.addEventListener('keydown', (event) => {
      if (event.key === 'ArrowDown') {
        event.preventDefault();
        open(false);
      } else if (event.key === 'ArrowUp') {
        event.preventDefault();
        open(true);
      }
    });
    menu.addEventListener('keydown', (event) => {
      const index = entries.indexOf(document.activeElement);
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const step = event.key === 'ArrowDown' ? 1 : -1;
        entries[(index + step + entries.length) % entries.length].focus();
      } else if (event.key === 'Home' || event.key === 'End') {
        event.preventDefault();
        entries[event.key === 'Home' ? 0 : entries.length - 1].focus();
      } else if (event.key === 'Escape') {
        event.preventDefault();
        closeMenu(true);
      } else if (event.key === 'Tab') {
        closeMenu(false);
      }
    });
    wrap.append(button, menu);
    return wrap;
  }

  function closeMenu(focusButton) {
    if (!openMenu) return;
    const { menu, button } = openMenu;
    openMenu = null;
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    if (focusButton) button.focus();
  }

  document.addEventListener('click', (event) => {
    if (openMenu && !openMenu.menu.contains(event.target) && !openMenu.button.contains(event.target)) closeMenu(false);
  });

  boot();
})();
