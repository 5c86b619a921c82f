// Unit tests of the share-poster component under miniprogram-simulate: the
// wx APIs are played by fakes, one scenario each.
require('./dom')
const { test, beforeEach } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const simulate = require('miniprogram-simulate')

const COMPONENT = path.join(__dirname, '..', 'components', 'share-poster', 'share-poster')
const ENDPOINT = 'https://api.example.com/poster'

// fakeWx installs wx APIs that answer from the given handlers and records
// every call.
function fakeWx (handlers) {
  const calls = []
  const api = (name) => (opts) => {
    calls.push({ name, opts })
    const h = handlers[name]
    setTimeout(() => {
      if (!h) return opts.fail && opts.fail({ errMsg: name + ':fail not mocked' })
      let r
      try { r = h(opts) } catch (e) { return opts.fail && opts.fail(e) }
      opts.success && opts.success(r)
      opts.complete && opts.complete(r)
    }, 0)
  }
  for (const name of ['request', 'downloadFile', 'showShareImageMenu', 'saveImageToPhotosAlbum', 'requirePrivacyAuthorize', 'showModal', 'openSetting']) {
    wx[name] = api(name)
  }
  wx.canIUse = () => true
  wx.showToast = (o) => calls.push({ name: 'showToast', opts: o })
  return calls
}

// jobs answers POST with a queued job and the polls with the next states.
function jobs (...states) {
  let n = 0
  return (opts) => {
    if (opts.method === 'POST') return { statusCode: 202, data: { id: 'j1', status: 'queued' } }
    const s = states[Math.min(n++, states.length - 1)]
    return { statusCode: 200, data: Object.assign({ id: 'j1' }, s) }
  }
}

const done = { status: 'succeeded', url: 'https://cdn.example.com/posters/j1.jpg' }
const download = () => ({ statusCode: 200, tempFilePath: 'wxfile://tmp/j1.jpg' })

let id
beforeEach(() => { id = simulate.load(COMPONENT, 'share-poster') })

function render (props) {
  const comp = simulate.render(id, Object.assign({ endpoint: ENDPOINT, request: { template: 'invite', data: { nickname: '小明' } } }, props))
  comp.attach(document.createElement('parent-wrapper'))
  const events = []
  for (const ev of ['done', 'error', 'shared', 'saved']) comp.addEventListener(ev, (e) => events.push({ ev, detail: e.detail }))
  return { comp, events }
}

// until waits for cond, checking as the component's promises settle.
async function until (cond, what) {
  for (let i = 0; i < 200; i++) {
    if (cond()) return
    await simulate.sleep(5)
  }
  assert.fail('timed out waiting for ' + what)
}

test('makes, long-polls, downloads and opens the share menu', async () => {
  const calls = fakeWx({ request: jobs({ status: 'active' }, done), downloadFile: download, showShareImageMenu: () => ({}) })
  const { comp, events } = render({ entrancePath: 'pages/index/index' })
  comp.querySelector('.sp-make').dispatchEvent('tap')
  await until(() => events.some(e => e.ev === 'shared'), 'the share menu')
  const reqs = calls.filter(c => c.name === 'request')
  assert.equal(reqs[0].opts.method, 'POST')
  assert.equal(reqs[0].opts.url, ENDPOINT)
  assert.deepEqual(reqs[0].opts.data, { template: 'invite', data: { nickname: '小明' } })
  assert.match(reqs[1].opts.url, /^https:\/\/api\.example\.com\/poster\/j1\?wait=\d+$/)
  assert.equal(calls.find(c => c.name === 'downloadFile').opts.url, done.url)
  const menu = calls.find(c => c.name === 'showShareImageMenu').opts
  assert.equal(menu.path, 'wxfile://tmp/j1.jpg')
  assert.equal(menu.entrancePath, 'pages/index/index')
  assert.deepEqual(events.find(e => e.ev === 'done').detail, { url: done.url, path: 'wxfile://tmp/j1.jpg' })
  assert.equal(comp.data.state, 'ready')
  assert.ok(comp.querySelector('.sp-image'), 'the poster is shown')
})

test('shows progress while the job is queued', async () => {
  let release
  const gate = new Promise(r => { release = r })
  fakeWx({ request: (o) => o.method === 'POST' ? { statusCode: 202, data: { id: 'j1', status: 'queued' } } : { statusCode: 200, data: { id: 'j1', status: 'queued' } } })
  // The first poll never answers until released.
  const { comp } = render({})
  const orig = wx.request
  let polls = 0
  wx.request = (o) => { if (o.method === 'GET' && polls++ === 0) { gate.then(() => orig(o)); return } orig(o) }
  comp.querySelector('.sp-make').dispatchEvent('tap')
  await until(() => comp.data.message === '排队中…', 'the queued message')
  assert.equal(comp.data.busy, true)
  assert.ok(comp.data.progress > 0 && comp.data.progress < 100)
  assert.ok(comp.querySelector('.sp-progress'), 'a progress bar is shown')
  release()
})

test('network failure gives a clear message and a retry', async () => {
  fakeWx({ request: () => { throw { errMsg: 'request:fail timeout' } } })
  const { comp, events } = render({})
  comp.querySelector('.sp-make').dispatchEvent('tap')
  await until(() => events.some(e => e.ev === 'error'), 'the error')
  const err = events.find(e => e.ev === 'error').detail
  assert.equal(err.code, 'network')
  assert.match(err.message, /网络/)
  assert.equal(comp.data.state, 'error')
  assert.ok(comp.querySelector('.sp-retry'), 'a retry button is shown')
  // Retry works once the network is back.
  fakeWx({ request: jobs(done), downloadFile: download, showShareImageMenu: () => ({}) })
  comp.querySelector('.sp-retry').dispatchEvent('tap')
  await until(() => comp.data.state === 'ready', 'the poster after retrying')
})

test('a failed job says why', async () => {
  fakeWx({ request: jobs({ status: 'failed', error: { code: '41030', message: 'the page is not published' } }) })
  const { comp, events } = render({})
  comp.querySelector('.sp-make').dispatchEvent('tap')
  await until(() => comp.data.state === 'error', 'the error state')
  assert.match(comp.data.message, /海报生成失败：the page is not published/)
  assert.deepEqual(events.map(e => e.detail.code), ['poster_failed'])
})

test('a poll that drops is retried', async () => {
  let polls = 0
  fakeWx({
    request: (o) => {
      if (o.method === 'POST') return { statusCode: 202, data: { id: 'j1', status: 'queued' } }
      if (polls++ === 0) throw { errMsg: 'request:fail interrupted' }
      return { statusCode: 200, data: Object.assign({ id: 'j1' }, done) }
    },
    downloadFile: download,
    showShareImageMenu: () => ({})
  })
  const { comp } = render({})
  comp.querySelector('.sp-make').dispatchEvent('tap')
  await until(() => comp.data.state === 'ready', 'the poster')
  assert.equal(polls, 2)
})

test('a download that is not 200 fails, and a missing domain says so', async () => {
  fakeWx({ request: jobs(done), downloadFile: () => ({ statusCode: 403, tempFilePath: 'wxfile://tmp/x' }) })
  let { comp } = render({})
  comp.querySelector('.sp-make').dispatchEvent('tap')
  await until(() => comp.data.state === 'error', 'the error')
  assert.match(comp.data.message, /下载失败/)

  fakeWx({ request: jobs(done), downloadFile: () => { throw { errMsg: 'downloadFile:fail url not in domain list' } } })
  ;({ comp } = render({}))
  comp.querySelector('.sp-make').dispatchEvent('tap')
  await until(() => comp.data.state === 'error', 'the error')
  assert.match(comp.data.message, /downloadFile 合法域名/)
})

test('a 4xx from the backend shows its message', async () => {
  fakeWx({ request: () => ({ statusCode: 400, data: { error: { code: 'invalid_request', message: 'data.nickname is required by template invite' } } }) })
  const { comp } = render({})
  comp.querySelector('.sp-make').dispatchEvent('tap')
  await until(() => comp.data.state === 'error', 'the error')
  assert.match(comp.data.message, /data\.nickname is required/)
})

// readyPoster renders a component with the poster made and the menu closed.
async function readyPoster (handlers) {
  const calls = fakeWx(Object.assign({ request: jobs(done), downloadFile: download, showShareImageMenu: () => { throw { errMsg: 'showShareImageMenu:fail cancel' } } }, handlers))
  const r = render({})
  r.comp.querySelector('.sp-make').dispatchEvent('tap')
  await until(() => r.comp.data.state === 'ready' && calls.some(c => c.name === 'showShareImageMenu'), 'the poster')
  await simulate.sleep(5)
  return Object.assign(r, { calls })
}

test('save: privacy, then the album', async () => {
  const { comp, events, calls } = await readyPoster({ requirePrivacyAuthorize: () => ({}), saveImageToPhotosAlbum: () => ({ errMsg: 'saveImageToPhotosAlbum:ok' }) })
  comp.querySelector('.sp-save').dispatchEvent('tap')
  await until(() => events.some(e => e.ev === 'saved'), 'saved')
  const names = calls.map(c => c.name)
  assert.ok(names.indexOf('requirePrivacyAuthorize') < names.indexOf('saveImageToPhotosAlbum'))
  assert.equal(calls.find(c => c.name === 'saveImageToPhotosAlbum').opts.filePath, 'wxfile://tmp/j1.jpg')
})

test('save: a refused album permission asks to open the settings, then saves', async () => {
  let tries = 0
  const { comp, events, calls } = await readyPoster({
    requirePrivacyAuthorize: () => ({}),
    saveImageToPhotosAlbum: () => { if (tries++ === 0) throw { errMsg: 'saveImageToPhotosAlbum:fail auth deny' }; return {} },
    showModal: () => ({ confirm: true }),
    openSetting: () => ({ authSetting: { 'scope.writePhotosAlbum': true } })
  })
  comp.querySelector('.sp-save').dispatchEvent('tap')
  await until(() => events.some(e => e.ev === 'saved'), 'saved after the settings')
  assert.ok(calls.some(c => c.name === 'openSetting'))
  assert.equal(tries, 2)
})

test('save: the user keeps the permission off', async () => {
  const { comp, events } = await readyPoster({
    requirePrivacyAuthorize: () => ({}),
    saveImageToPhotosAlbum: () => { throw { errMsg: 'saveImageToPhotosAlbum:fail auth deny' } },
    showModal: () => ({ confirm: false })
  })
  comp.querySelector('.sp-save').dispatchEvent('tap')
  await until(() => events.some(e => e.ev === 'error'), 'the error')
  assert.equal(events.find(e => e.ev === 'error').detail.code, 'album_denied')
  assert.match(comp.data.hint, /相册权限/)
})

test('save: privacy agreement refused, or not declared (errno 112)', async () => {
  let r = await readyPoster({ requirePrivacyAuthorize: () => { throw { errMsg: 'requirePrivacyAuthorize:fail privacy permission is not authorized' } } })
  r.comp.querySelector('.sp-save').dispatchEvent('tap')
  await until(() => r.events.some(e => e.ev === 'error'), 'the error')
  assert.equal(r.events.find(e => e.ev === 'error').detail.code, 'privacy_denied')
  assert.ok(!r.calls.some(c => c.name === 'saveImageToPhotosAlbum'), 'no save without the agreement')

  r = await readyPoster({
    requirePrivacyAuthorize: () => ({}),
    saveImageToPhotosAlbum: () => { throw { errno: 112, errMsg: 'saveImageToPhotosAlbum:fail api scope is not declared in the privacy agreement' } }
  })
  r.comp.querySelector('.sp-save').dispatchEvent('tap')
  await until(() => r.events.some(e => e.ev === 'error'), 'the error')
  assert.equal(r.events.find(e => e.ev === 'error').detail.code, 'privacy_not_declared')
  assert.match(r.comp.data.hint, /用户隐私保护指引/)
})

test('without showShareImageMenu (old base library) it hints at long-press', async () => {
  const calls = fakeWx({ request: jobs(done), downloadFile: download })
  wx.canIUse = (n) => n !== 'showShareImageMenu'
  const { comp } = render({})
  comp.querySelector('.sp-make').dispatchEvent('tap')
  await until(() => comp.data.state === 'ready' && comp.data.hint !== '', 'the hint')
  assert.match(comp.data.hint, /长按/)
  assert.ok(!calls.some(c => c.name === 'showShareImageMenu'))
})
