// live.js runs the share-poster component under miniprogram-simulate against
// a real backend: wx.request and wx.downloadFile are played by Node's fetch,
// the share menu records its path. Used by e2e/miniprogram_component_test.go:
//   node test/live.js <backend URL> <user> <request JSON> <download dir>
// It prints {"done": {...}, "shared": "...", "errors": [...]} and exits.
'use strict'
require('./dom')
const fs = require('node:fs')
const path = require('node:path')
const simulate = require('miniprogram-simulate')

const [backend, user, request, dir] = process.argv.slice(2)

wx.request = ({ url, method, data, header, success, fail }) => {
  fetch(url, {
    method: method || 'GET',
    headers: Object.assign({ 'Content-Type': 'application/json' }, header),
    body: method === 'POST' ? JSON.stringify(data) : undefined
  }).then(async (r) => success({ statusCode: r.status, data: await r.json() }), (e) => fail({ errMsg: 'request:fail ' + e.message }))
}
let n = 0
wx.downloadFile = ({ url, success, fail }) => {
  fetch(url).then(async (r) => {
    const file = path.join(dir, 'poster-' + (n++) + '.img')
    fs.writeFileSync(file, Buffer.from(await r.arrayBuffer()))
    success({ statusCode: r.status, tempFilePath: file })
  }, (e) => fail({ errMsg: 'downloadFile:fail ' + e.message }))
}
const out = { errors: [] }
wx.canIUse = () => true
wx.showShareImageMenu = ({ path, success }) => { out.shared = path; success({}) }

const id = simulate.load(path.join(__dirname, '..', 'components', 'share-poster', 'share-poster'), 'share-poster')
const comp = simulate.render(id, { endpoint: backend + '/api/poster', request: JSON.parse(request), header: { 'X-User': user }, timeout: 30000 })
comp.attach(document.createElement('parent-wrapper'))
comp.addEventListener('done', (e) => { out.done = e.detail })
comp.addEventListener('error', (e) => { out.errors.push(e.detail) })
comp.querySelector('.sp-make').dispatchEvent('tap')

const deadline = Date.now() + 40000
;(function wait () {
  if ((out.done && out.shared) || out.errors.length || Date.now() > deadline) {
    console.log(JSON.stringify(out))
    process.exit(0)
  }
  setTimeout(wait, 20)
})()
