// The wxposter template preview page: edit a palette and its data, see the
// server's render (POST /v1/preview, placeholders for images and the code),
// errors and warnings pointing at their JSON paths, and save the palette as
// a template (PUT /v1/templates/{name}). No build step, no dependencies.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const paletteBox = $('palette'), dataBox = $('data'), img = $('image');
  const problems = $('problems'), status = $('status'), keyBox = $('key');

  keyBox.value = localStorage.getItem('wxposter.key') || '';
  keyBox.addEventListener('change', () => { localStorage.setItem('wxposter.key', keyBox.value); listTemplates(); });

  function headers(json) {
    const h = { 'Accept': 'application/json' };
    if (json) h['Content-Type'] = 'application/json';
    if (keyBox.value) h['Authorization'] = 'Bearer ' + keyBox.value;
    return h;
  }

  // locate maps JSON paths as the server writes them ("views[2].css.width")
  // to offsets in text, by scanning the JSON once.
  function locate(text) {
    const at = {};
    let i = 0;
    const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
    const str = () => { const s = i; i++; while (i < text.length && text[i] !== '"') { if (text[i] === '\\') i++; i++; } i++; return JSON.parse(text.slice(s, i)); };
    function value(path) {
      ws();
      at[path || 'palette'] = i;
      const c = text[i];
      if (c === '{') {
        i++; ws();
        if (text[i] === '}') { i++; return; }
        for (;;) {
          ws(); const k = str(); ws(); i++; // the colon
          const p = path ? path + '.' + k : k;
          ws(); at[p] = i; value(p); ws();
          if (text[i] === ',') { i++; continue; }
          i++; return;
        }
      } else if (c === '[') {
        i++; ws();
        if (text[i] === ']') { i++; return; }
        for (let n = 0; ; n++) {
          value(path + '[' + n + ']'); ws();
          if (text[i] === ',') { i++; continue; }
          i++; return;
        }
      } else if (c === '"') {
        str();
      } else {
        while (i < text.length && !/[,\]}\s]/.test(text[i])) i++;
      }
    }
    try { value(''); } catch (e) { /* invalid JSON: what was found so far */ }
    return at;
  }

  // select highlights the JSON at path (or its nearest known parent).
  function select(path) {
    const text = paletteBox.value, at = locate(text);
    let p = path.replace(/^palette\./, '');
    while (p && at[p] === undefined) {
      p = p.replace(/(\.[^.[\]]*|\[\d+\])$/, '');
    }
    const start = at[p || 'palette'] || 0;
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    paletteBox.focus();
    paletteBox.setSelectionRange(start, end);
    const line = text.slice(0, start).split('\n').length;
    paletteBox.scrollTop = Math.max(0, (line - 3) * 17);
  }

  function show(list, kind) {
    for (const p of list || []) {
      const li = document.createElement('li');
      li.className = kind;
      li.dataset.path = p.path;
      const code = document.createElement('code');
      code.textContent = p.path;
      li.append(kind === 'error' ? '✗ ' : '⚠ ', code, ' ' + p.rule);
      li.addEventListener('click', () => select(p.path));
      problems.append(li);
    }
  }

  function parseData() {
    const t = dataBox.value.trim();
    if (!t) return {};
    const d = JSON.parse(t);
    for (const k of Object.keys(d)) d[k] = String(d[k]);
    return d;
  }

  let seq = 0;
  async function render() {
    const n = ++seq;
    problems.textContent = '';
    let palette, data;
    try { palette = JSON.parse(paletteBox.value); } catch (e) {
      show([{ path: 'palette', rule: 'is not valid JSON: ' + e.message }], 'error');
      status.textContent = 'not rendered';
      return;
    }
    try { data = parseData(); } catch (e) {
      show([{ path: 'data', rule: 'is not a valid JSON object: ' + e.message }], 'error');
      return;
    }
    status.textContent = 'rendering…';
    const started = performance.now();
    let resp, body;
    try {
      resp = await fetch('/v1/preview', { method: 'POST', headers: headers(true), body: JSON.stringify({ palette, data }) });
      body = await resp.json();
    } catch (e) {
      if (n === seq) status.textContent = 'the server could not be reached: ' + e.message;
      return;
    }
    if (n !== seq) return; // a newer render is on its way
    if (!resp.ok) {
      status.textContent = 'not rendered (' + resp.status + ')';
      show(body.errors || [{ path: (body.error && body.error.field) || 'body', rule: (body.error && body.error.message) || resp.statusText }], 'error');
      show(body.warnings, 'warning');
      img.removeAttribute('src');
      return;
    }
    img.src = body.image;
    img.dataset.width = body.width;
    $('vars').textContent = body.variables.length ? 'variables: ' + body.variables.join(', ') : 'no variables';
    status.textContent = 'rendered ' + body.width + '×' + body.height + ' px in ' + Math.round(performance.now() - started) + ' ms';
    show(body.warnings, 'warning');
  }

  let timer;
  function changed() {
    if (!$('auto').checked) return;
    clearTimeout(timer);
    timer = setTimeout(render, 400);
  }
  paletteBox.addEventListener('input', changed);
  dataBox.addEventListener('input', changed);
  $('render').addEventListener('click', render);

  async function listTemplates() {
    const sel = $('templates');
    try {
      const resp = await fetch('/v1/templates', { headers: headers(false) });
      if (!resp.ok) return;
      const body = await resp.json();
      sel.length = 1;
      for (const t of body.templates) {
        if (t.builtin) continue;
        const o = document.createElement('option');
        o.value = t.name;
        o.textContent = t.name + ' v' + t.version;
        sel.append(o);
      }
    } catch (e) { /* the list is a convenience */ }
  }

  $('load').addEventListener('click', async () => {
    const name = $('templates').value;
    if (!name) return;
    const resp = await fetch('/v1/templates/' + encodeURIComponent(name), { headers: headers(false) });
    const body = await resp.json();
    if (!resp.ok) { status.textContent = body.error ? body.error.message : resp.statusText; return; }
    paletteBox.value = JSON.stringify(body.palette, null, 2);
    $('save-name').value = name;
    const data = {};
    for (const v of body.variables) data[v] = '';
    dataBox.value = JSON.stringify(data, null, 2);
    render();
  });

  $('save').addEventListener('click', async () => {
    const name = $('save-name').value.trim();
    problems.textContent = '';
    if (!name) { show([{ path: 'name', rule: 'is required to save' }], 'error'); return; }
    const resp = await fetch('/v1/templates/' + encodeURIComponent(name), { method: 'PUT', headers: headers(true), body: paletteBox.value });
    const body = await resp.json();
    if (!resp.ok) {
      status.textContent = 'not saved (' + resp.status + ')';
      show(body.errors || [{ path: (body.error && body.error.field) || 'body', rule: body.error ? body.error.message : resp.statusText }], 'error');
      show(body.warnings, 'warning');
      return;
    }
    status.textContent = 'saved ' + body.name + ' version ' + body.version + ' (' + body.change + ')';
    show(body.warnings, 'warning');
    listTemplates();
  });

  listTemplates();
})();
