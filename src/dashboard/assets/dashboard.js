// kontext-relay dashboard client: live counters over server-sent events, gallery filter / paging /
// refresh, and the operator actions. Server data is written with textContent only; the only HTML
// inserted is the server's escaped gallery fragment. No dependencies, no build step.
(() => {
  const ACTION_HEADER = 'x-kr-action';
  /** The gallery is re-fetched at most this often while counters move. */
  const GALLERY_MIN_INTERVAL_MS = 1500;
  const COST_DECIMALS = 4;
  const PERCENT = 100;
  const SEGMENTS = ['completed', 'partial', 'failed', 'cancelled', 'inFlight', 'queued'];
  const QUEUE_COUNTS = ['waiting', 'active', 'delayed', 'failed'];
  /** After a task or endpoint action the page reloads to show the new state. */
  const RELOAD_AFTER_ACTION_MS = 800;

  const body = document.body;
  const batchId = body.dataset.batch;
  const resultLine = document.getElementById('action-result');

  function usd(n) {
    return n === null || n === undefined ? '—' : `$${Number(n).toFixed(COST_DECIMALS)}`;
  }

  function clock(ms) {
    return ms ? `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC` : '—';
  }

  async function post(path) {
    const res = await fetch(path, {
      method: 'POST',
      headers: { [ACTION_HEADER]: '1' },
      credentials: 'same-origin',
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(json.message || `HTTP ${res.status}`);
    return json;
  }

  function say(text, isError) {
    if (!resultLine) return;
    resultLine.textContent = text;
    resultLine.classList.toggle('bad', Boolean(isError));
  }

  /** Copy a batch view's values into every [data-field] element and the progress bar. */
  function showBatch(batch) {
    for (const el of document.querySelectorAll('main [data-field]')) {
      const name = el.dataset.field;
      if (!(name in batch)) continue;
      const v = batch[name];
      if (name === 'state') {
        el.textContent = String(v).replaceAll('_', ' ');
        el.className = `badge badge-${v}`;
      } else if (name === 'cancelRequested' || name === 'held') {
        el.hidden = v !== true;
      } else if (el.dataset.format === 'usd') {
        el.textContent = v === null ? 'no budget' : usd(v);
      } else if (el.dataset.format === 'time') {
        el.textContent = clock(v);
      } else if (name === 'overdue') {
        el.textContent = `${v}${batch.overdueCapped ? '+' : ''}`;
      } else {
        el.textContent = String(v);
      }
    }
    const retry = document.querySelector('button[data-action="retry-failed"]');
    if (retry && !retry.classList.contains('busy'))
      retry.disabled = batch.failed + (batch.partial ?? 0) === 0;
    const cancel = document.querySelector('button[data-action="cancel"]');
    const ended =
      batch.completed + (batch.partial ?? 0) + batch.failed + batch.cancelled >= batch.total &&
      batch.state !== 'enqueuing';
    if (cancel && !cancel.classList.contains('busy')) cancel.disabled = ended;
    for (const seg of document.querySelectorAll('main [data-segment]')) {
      const n = batch[seg.dataset.segment] ?? 0;
      seg.style.width = `${batch.total > 0 ? ((n / batch.total) * PERCENT).toFixed(2) : 0}%`;
    }
  }

  function showQueue(queue) {
    const set = (name, value) => {
      for (const el of document.querySelectorAll(`[data-queue="${name}"]`)) el.textContent = String(value);
    };
    for (const name of QUEUE_COUNTS) set(name, queue.counts[name] ?? 0);
    set('overdue', queue.overdue);
    if (queue.webhooks) {
      const r = queue.webhooks.lossRatio;
      set('webhookLoss', r === null ? '—' : `${Math.round(r * 100)}%`);
      set('pollFirst', queue.webhooks.mode === 'poll-first' ? ' (poll-first)' : '');
    }
    set('pausedReason', queue.pausedReason ?? 'none recorded (paused by hand?)');
    const paused = document.querySelector('[data-queue-paused]');
    if (paused) paused.hidden = !queue.paused;
  }

  // ---- gallery: filter, paging, refresh ----
  const gallery = document.getElementById('gallery');
  const form = document.getElementById('filters');
  let offset = Number(new URLSearchParams(location.search).get('offset') || 0);
  let loading = false;
  let reloadAfter = false;
  let lastLoad = 0;
  let timer;

  function galleryParams() {
    const params = new URLSearchParams();
    const data = new FormData(form);
    if (data.get('status') && data.get('status') !== 'all') params.set('status', String(data.get('status')));
    if (String(data.get('q') || '').trim()) params.set('q', String(data.get('q')).trim());
    if (offset > 0) params.set('offset', String(offset));
    return params;
  }

  async function loadGallery() {
    if (!gallery || !form || !batchId) return;
    if (loading) {
      reloadAfter = true;
      return;
    }
    loading = true;
    lastLoad = Date.now();
    try {
      const params = galleryParams();
      const path = `batches/${encodeURIComponent(batchId)}`;
      const res = await fetch(`${path}/gallery?${params}`, { credentials: 'same-origin' });
      if (res.ok) {
        gallery.innerHTML = await res.text();
        const query = params.toString();
        history.replaceState(null, '', query ? `${path}?${query}` : path);
      } else {
        say(`Could not load tasks: HTTP ${res.status}`, true);
      }
    } catch (err) {
      say(`Could not load tasks: ${err.message}`, true);
    } finally {
      loading = false;
      if (reloadAfter) {
        reloadAfter = false;
        scheduleGallery();
      }
    }
  }

  function scheduleGallery() {
    if (timer) return;
    const wait = Math.max(0, lastLoad + GALLERY_MIN_INTERVAL_MS - Date.now());
    timer = setTimeout(() => {
      timer = undefined;
      loadGallery();
    }, wait);
  }

  if (form) {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      offset = 0;
      loadGallery();
    });
    form.elements.status.addEventListener('change', () => {
      offset = 0;
      loadGallery();
    });
  }

  // ---- live updates ----
  if (body.dataset.page === 'batch' && batchId && 'EventSource' in window) {
    const live = document.getElementById('live');
    const stream = new EventSource(`api/batches/${encodeURIComponent(batchId)}/stream`);
    // Start from the counts the page was rendered with (see countsKey in render-batch-page.ts).
    let lastCounts = document.querySelector('[data-counts]')?.dataset.counts ?? '';
    stream.addEventListener('open', () => {
      if (live) live.hidden = false;
    });
    stream.addEventListener('error', () => {
      if (live) live.hidden = true;
    });
    // The charts script (charts.js) redraws from these.
    stream.addEventListener('charts', (ev) => {
      document.dispatchEvent(new CustomEvent('kr:charts', { detail: JSON.parse(ev.data) }));
    });
    stream.addEventListener('status', (ev) => {
      const { batch, queue } = JSON.parse(ev.data);
      if (queue) showQueue(queue);
      if (!batch) return;
      showBatch(batch);
      const counts = SEGMENTS.concat('overdue')
        .map((k) => batch[k])
        .join(',');
      if (counts !== lastCounts) scheduleGallery();
      lastCounts = counts;
    });
  }

  // ---- actions ----
  async function act(button) {
    const action = button.dataset.action;
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    button.disabled = true;
    button.classList.add('busy');
    try {
      if (action === 'resume-queue') {
        const r = await post('api/queue/resume');
        const paused = document.querySelector('[data-queue-paused]');
        if (paused) paused.hidden = true;
        say(r.wasPausedFor ? `Queue resumed (it was paused: ${r.wasPausedFor}).` : 'Queue resumed.');
      } else if (action === 'retry-failed') {
        const r = await post(`api/batches/${encodeURIComponent(batchId)}/retry-failed`);
        const gone = r.unavailable?.length
          ? ` ${r.unavailable.length} could not be retried (their jobs expired).`
          : '';
        say(
          `Retried ${r.retried} failed task(s) (partial ones: their failed slots only); ${r.billedImages} image(s) to be generated and billed again.${gone}`,
        );
        loadGallery();
      } else if (action === 'retry-task' || action === 'cancel-task') {
        const verb = action === 'retry-task' ? 'retry' : 'cancel';
        const r = await post(`api/tasks/${encodeURIComponent(button.dataset.task)}/${verb}`);
        say(r.message);
        setTimeout(() => location.reload(), RELOAD_AFTER_ACTION_MS);
        return;
      } else if (action === 'enable-endpoint') {
        const r = await post(`api/endpoints/enable?url=${encodeURIComponent(button.dataset.endpoint)}`);
        say(r.message);
        setTimeout(() => location.reload(), RELOAD_AFTER_ACTION_MS);
        return;
      } else if (action === 'replay-endpoint') {
        const from = button.closest('.actions')?.querySelector('[data-replay-from]')?.value ?? '';
        const q = new URLSearchParams({ url: button.dataset.endpoint, from });
        const r = await post(`api/deliveries/replay?${q}`);
        say(r.message);
      } else if (action === 'cancel') {
        const r = await post(`api/batches/${encodeURIComponent(batchId)}/cancel`);
        say(
          `Cancelled: ${r.removed} queued task(s) removed; ${r.cancelledInFlight} in flight marked cancelled — ` +
            'the provider still bills those.',
        );
        loadGallery();
      }
    } catch (err) {
      say(`Failed: ${err.message}`, true);
    } finally {
      button.classList.remove('busy');
      button.disabled = false;
    }
  }

  document.addEventListener('click', (e) => {
    const target = e.target instanceof Element ? e.target : null;
    const button = target?.closest('button[data-action]');
    if (button) {
      act(button);
      return;
    }
    const pageLink = target?.closest('#gallery a[data-offset]');
    if (pageLink) {
      e.preventDefault();
      offset = Number(pageLink.dataset.offset) || 0;
      loadGallery();
    }
  });
})();
