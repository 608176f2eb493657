// Settings / Users: the actions menu (···) of a table row, with the keyboard of a menu button.

import { element } from './format.js';

let openMenu = null;
let menuCount = 0;

export function actionsMenu(label, items) {
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

export function closeMenu(focusButton) {
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
