// Linkflow Connect's behaviour in the browser (the page works without it, except the encryption of
// credentials, which it never skips): filtering the institution list, encrypting credentials with
// Linkflow's public key before they leave the browser, the challenge countdown, following the
// connection live, and the last redirect.
import * as openpgp from '/connect/assets/openpgp.min.mjs';

const main = document.querySelector('main');

// Choosing: filter the list as the end user types.
const filter = document.querySelector('[data-filter]');
if (filter) {
  const list = document.querySelector(filter.dataset.filter);
  const empty = document.getElementById('no-match');
  filter.addEventListener('input', () => {
    const q = filter.value.trim().toLowerCase();
    let shown = 0;
    for (const item of list.querySelectorAll('li')) {
      const match = !q || item.dataset.name.includes(q);
      item.hidden = !match;
      if (match) shown++;
    }
    if (empty) empty.hidden = shown > 0;
  });
}

// Credentials: every value encrypted (OpenPGP, Linkflow's key) into its hidden input; the inputs
// the end user typed into have no name, so their plaintext is never part of the request.
const encryptForm = document.querySelector('form[data-encrypt]');
if (encryptForm) {
  encryptForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const inputs = [...encryptForm.querySelectorAll('[data-encrypt-into]')];
    for (const input of inputs) {
      input.setCustomValidity('');
      input.removeAttribute('aria-invalid');
    }
    if (!inputs.every((input) => input.reportValidity())) {
      for (const input of inputs) if (!input.validity.valid) input.setAttribute('aria-invalid', 'true');
      return;
    }
    const status = document.getElementById('encrypting');
    const button = encryptForm.querySelector('button[type=submit]');
    status.hidden = false;
    button.disabled = true;
    try {
      const key = await openpgp.readKey({ armoredKey: document.getElementById('linkflow-key').value });
      for (const input of inputs) {
        const target = document.getElementById(input.dataset.encryptInto);
        target.value = input.value === '' ? '' : await openpgp.encrypt({ message: await openpgp.createMessage({ text: input.value }), encryptionKeys: key });
      }
      encryptForm.submit();
    } catch (err) {
      status.textContent = String(err);
      button.disabled = false;
    }
  });
}

// Consent: at least one account.
const atLeastOne = document.querySelector('form[data-at-least-one]');
if (atLeastOne) {
  atLeastOne.addEventListener('submit', (event) => {
    const boxes = [...atLeastOne.querySelectorAll(`input[name="${atLeastOne.dataset.atLeastOne}"]`)];
    if (!boxes.some((box) => box.checked)) {
      event.preventDefault();
      boxes[0].setCustomValidity(atLeastOne.dataset.noneMessage);
      boxes[0].reportValidity();
      boxes[0].addEventListener('change', () => boxes[0].setCustomValidity(''), { once: true });
    }
  });
}

// Challenges: a live countdown to the bank's deadline.
for (const time of document.querySelectorAll('time[data-countdown-until]')) {
  const until = Date.parse(time.dataset.countdownUntil);
  const tick = () => {
    const left = Math.max(0, Math.round((until - Date.now()) / 1000));
    time.textContent = left > 0 ? `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}` : time.dataset.timeUp;
    if (left > 0) setTimeout(tick, 1000);
  };
  tick();
}

// Waiting (and the redirect step, until the bank's answer is in): follow the connection, reload when its step changes.
if (main?.dataset.poll) {
  const poll = async () => {
    try {
      const response = await fetch(main.dataset.poll, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (response.ok) {
        const status = await response.json();
        if (status.step !== main.dataset.step || (status.state ?? '') !== (main.dataset.state ?? '')) {
          window.location.reload();
          return;
        }
      }
    } catch {
      // A dropped request: the next one says.
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);
}

// Success: back to the application after a moment (the button does it at once).
const next = document.querySelector('[data-next]');
if (next) setTimeout(() => window.location.assign(next.dataset.next), 2500);
