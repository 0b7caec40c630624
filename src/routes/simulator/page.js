// The phone simulator's script: plain browser JavaScript, no library, requests to this origin only.
// The phone talks to /simulator/api (the gateway dials its own USSD routes in the chosen dialect); the
// wallet panel reads the sandbox wallet's hooks; the loans panel reads /simulator/api/loans.
(function () {
  'use strict';

  const POLL_MS = 2000;
  const SHORT_CODE = /^\*[0-9*]*#$/;
  const $ = (id) => document.getElementById(id);

  const state = {
    dialects: [],
    wallet: '/sandbox/wallet',
    call: null, // the current call's id
    live: false, // the session waits for a reply
    busy: false, // a hop is on its way
    msisdn: null, // the number as the gateway read it at the last dial
    dialledWith: null, // the MSISDN field's text at that dial
    codeEdited: false,
    refreshing: false, // the panels are being read
    again: false, // read them once more when done
    loans: {}, // the last loans read: its query, the number as read, whether the LMS knows it
  };

  async function api(method, path, body) {
    const init = { method, headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      const error = new Error(data && data.message ? data.message : `HTTP ${response.status}`);
      error.code = data && data.code;
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function showError(message) {
    $('error').textContent = message;
    $('error').hidden = !message;
  }

  // ---- the phone ----

  function setScreen(text, kind, status, phoneState) {
    $('screen-text').textContent = text;
    $('screen-kind').textContent = kind;
    $('screen-status').textContent = status;
    $('phone').dataset.state = phoneState;
  }

  function currentDialect() {
    return state.dialects.find((d) => d.name === $('dialect').value);
  }

  function showNetwork() {
    const d = currentDialect();
    $('screen-network').textContent = d ? d.label : '---';
  }

  function render(reply) {
    state.call = reply.call;
    // The gateway's reading of the number (country code applied) is what the panels look up.
    state.msisdn = reply.msisdn;
    state.live = !reply.screen.end;
    if (reply.screen.end) {
      setScreen(reply.screen.text, 'END', 'Session ended', 'ended');
    } else {
      setScreen(reply.screen.text, 'CON', 'Reply and press Send', 'waiting');
    }
  }

  async function hop(path, body, pending) {
    state.busy = true;
    showError('');
    $('phone').dataset.state = 'busy';
    $('screen-status').textContent = pending;
    try {
      render(await api('POST', path, body));
    } catch (error) {
      state.live = false;
      setScreen($('screen-text').textContent, '', 'Error', 'error');
      showError(error.message);
    } finally {
      state.busy = false;
      refreshPanels();
    }
  }

  async function dial(code) {
    forgetCall();
    const dialect = $('dialect').value;
    const msisdn = $('msisdn').value;
    setScreen(`Calling ${code}…`, '', '', 'busy');
    state.dialledWith = msisdn;
    await hop('/simulator/api/dial', { dialect, msisdn, code }, 'Dialling…');
  }

  function forgetCall() {
    if (state.call) {
      const call = state.call;
      state.call = null;
      api('POST', '/simulator/api/hangup', { call }).catch(() => {});
    }
    state.live = false;
  }

  function callKey() {
    if (state.busy) return;
    const typed = $('reply').value;
    if (state.live) {
      if (!typed) return;
      $('reply').value = '';
      hop('/simulator/api/send', { call: state.call, input: typed }, 'Sending…');
      return;
    }
    const code = SHORT_CODE.test(typed.trim()) ? typed.trim() : $('code').value.trim();
    $('reply').value = '';
    dial(code);
  }

  function endKey() {
    if (state.busy) return;
    const wasLive = state.live;
    forgetCall();
    $('reply').value = '';
    setScreen(wasLive ? 'You hung up.' : '', '', wasLive ? 'Session ended' : 'Ready', wasLive ? 'ended' : 'idle');
  }

  // ---- the side panels ----

  // Exact amounts: the decimal string gets thousands separators; trailing zero decimals are dropped.
  function money(value) {
    if (value === null || value === undefined) return '—';
    const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(value));
    if (!m) return String(value);
    const whole = m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    const fraction = (m[3] || '').replace(/0+$/, '');
    return m[1] + whole + (fraction ? `.${fraction}` : '');
  }

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function panelNumber() {
    const typed = $('msisdn').value.trim();
    if (!typed) return null;
    const msisdn = state.msisdn && state.dialledWith === $('msisdn').value ? state.msisdn : typed;
    return { msisdn, dialect: $('dialect').value };
  }

  function renderLoans(view) {
    const body = $('loans-body');
    body.replaceChildren();
    if (!view.registered) {
      $('loans-status').textContent = `${view.msisdn} is not registered with the LMS.`;
    } else if (view.loans.length === 0) {
      $('loans-status').textContent = `${view.msisdn} is registered and has no loan.`;
    } else {
      const n = view.loans.length;
      $('loans-status').textContent = `${view.msisdn}: ${n} loan${n === 1 ? '' : 's'}.`;
    }
    for (const loan of view.loans) {
      const row = element('tr', { 'data-testid': 'loan', 'data-external-id': loan.external_id });
      row.append(
        element('td', { class: 'product' }, loan.product),
        element('td', { class: 'status' }, loan.status),
        element('td', { class: 'amount principal', 'data-amount': loan.principal }, money(loan.principal)),
        element('td', { class: 'amount outstanding', 'data-amount': loan.outstanding ?? '' }, money(loan.outstanding)),
        element('td', { class: 'due' },
          loan.next_due_amount ? `${money(loan.next_due_amount)} by ${loan.next_due_date || '?'}` : '—'),
      );
      body.append(row);
    }
  }

  function describe(t) {
    const amount = `${t.currency} ${money(t.amount)}`;
    if (t.kind === 'payout') return `Received ${amount} (loan payout)`;
    if (t.kind === 'collection') return `Paid ${amount} (repayment prompt)`;
    return `Paid ${amount} to the business number`;
  }

  function renderWallet(transactions, msisdn) {
    const mine = transactions.filter((t) => t.msisdn === msisdn);
    const prompts = mine.filter((t) => t.kind === 'collection' && t.status === 'pending');
    $('wallet-status').textContent = mine.length
      ? `${msisdn}: ${prompts.length} prompt${prompts.length === 1 ? '' : 's'} waiting.`
      : `${msisdn}: no wallet activity yet.`;
    const list = $('wallet-prompts');
    list.replaceChildren();
    for (const t of prompts) {
      const item = element('li', { 'data-testid': 'prompt', 'data-reference': t.reference });
      item.append(element('div', {}, `Pay ${t.currency} ${money(t.amount)} to Mkopo? (account ${t.account || '-'})`));
      const actions = element('div', { class: 'actions' });
      const approve = element('button', { type: 'button', class: 'small approve', 'data-testid': 'approve' }, 'Approve');
      const decline = element('button', { type: 'button', class: 'small decline', 'data-testid': 'decline' }, 'Decline');
      approve.addEventListener('click', () => answerPrompt(t.reference, 'approve', [approve, decline]));
      decline.addEventListener('click', () => answerPrompt(t.reference, 'decline', [approve, decline]));
      actions.append(approve, decline);
      item.append(actions);
      list.append(item);
    }
    const history = $('wallet-history');
    history.replaceChildren();
    for (const t of mine.filter((x) => !prompts.includes(x)).reverse().slice(0, 8)) {
      const item = element('li', { 'data-testid': 'wallet-transaction' }, describe(t));
      item.append(element('span', { class: 'state' }, ` · ${t.status}`));
      history.append(item);
    }
  }

  async function answerPrompt(reference, action, buttons) {
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await api('POST', `${state.wallet}/sandbox/collections/${encodeURIComponent(reference)}/${action}`);
    } catch (error) {
      // 409: the wallet approved it on its own meanwhile (sandbox.wallet.collection_approve_delay).
      if (error.status !== 409) showError(`The wallet refused: ${error.message}`);
    }
    refreshPanels();
  }

  // The timer skips the LMS for a number it does not know (only a hop can register it), so an idle
  // page does not keep asking the LMS for a stranger.
  async function refreshPanels(timer) {
    if (state.refreshing) {
      state.again = true;
      return;
    }
    const who = panelNumber();
    if (!who) return;
    const query = new URLSearchParams(who).toString();
    state.refreshing = true;
    try {
      let msisdn = state.loans.query === query ? state.loans.msisdn : who.msisdn;
      if (!(timer === true && state.loans.query === query && !state.loans.registered)) {
        try {
          const view = await api('GET', `/simulator/api/loans?${query}`);
          state.loans = { query, msisdn: view.msisdn, registered: view.registered };
          msisdn = view.msisdn;
          renderLoans(view);
        } catch (error) {
          state.loans = {};
          $('loans-body').replaceChildren();
          $('loans-status').textContent = error.message;
        }
      }
      try {
        const list = await api('GET', `${state.wallet}/sandbox/transactions`);
        renderWallet(list.transactions || [], msisdn);
      } catch (error) {
        $('wallet-prompts').replaceChildren();
        $('wallet-history').replaceChildren();
        $('wallet-status').textContent = error.status === 404
          ? 'This gateway has no sandbox wallet (wallets.default is not the sandbox).'
          : error.message;
      }
    } finally {
      state.refreshing = false;
      if (state.again) {
        state.again = false;
        refreshPanels();
      }
    }
  }

  // ---- wiring ----

  function wire() {
    for (const key of document.querySelectorAll('.keypad .key')) {
      key.addEventListener('click', () => { $('reply').value += key.dataset.key; });
    }
    $('key-clear').addEventListener('click', () => { $('reply').value = $('reply').value.slice(0, -1); });
    $('key-call').addEventListener('click', callKey);
    $('key-end').addEventListener('click', endKey);
    $('reply').addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        callKey();
      }
    });
    $('dialect').addEventListener('change', () => {
      const d = currentDialect();
      if (d && !state.codeEdited) $('code').value = d.code;
      showNetwork();
      refreshPanels();
    });
    $('code').addEventListener('input', () => { state.codeEdited = true; });
    $('msisdn').addEventListener('change', () => refreshPanels());
    $('refresh').addEventListener('click', () => refreshPanels());
  }

  async function start() {
    wire();
    try {
      const config = await api('GET', '/simulator/api/config');
      state.dialects = config.dialects;
      state.wallet = config.wallet;
      for (const d of config.dialects) $('dialect').append(element('option', { value: d.name }, d.label));
      $('msisdn').value = config.msisdn;
      if (config.dialects.length) {
        $('code').value = config.dialects[0].code;
      } else {
        showError('No USSD dialect is enabled (ussd.dialects.<name>.enabled).');
      }
      showNetwork();
      document.body.dataset.ready = 'true';
    } catch (error) {
      showError(`Cannot read the simulator's settings: ${error.message}`);
    }
    refreshPanels();
    setInterval(() => refreshPanels(true), POLL_MS);
  }

  start();
})();
