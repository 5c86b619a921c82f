// A minimal backend for the share-poster mini-program component, in Node
// (18 or newer, no dependencies). It holds the wxposter API key, which never
// goes to the phone, and decides what poster a user may ask for.
//
//   POST /api/poster          body {template, data} → the wxposter job, held until it ends (≤ 10 s)
//   GET  /api/poster/:id?wait → the job, long-polled (wait ≤ 10 s)
//
// Run:  WXPOSTER_URL=http://127.0.0.1:8080 WXPOSTER_API_KEY=... PORT=3000 node server.js
// (PORT=0 picks a free port; the first line printed is the address.)
'use strict'
const http = require('node:http')

const WXPOSTER = (process.env.WXPOSTER_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '')
const KEY = process.env.WXPOSTER_API_KEY || ''
const PAGE = process.env.POSTER_PAGE || 'pages/index/index' // the page the code opens
const TEMPLATES = new Set((process.env.POSTER_TEMPLATES || 'invite').split(',')) // what users may ask for

// userOf is who is asking. Replace it with your own session check (the
// session your wx.login flow issues); here a header stands in for it.
function userOf (req) {
  const u = req.headers['x-user'] || ''
  return /^[A-Za-z0-9_-]{1,32}$/.test(u) ? u : ''
}

async function wxposter (method, path, body) {
  const resp = await fetch(WXPOSTER + path, {
    method,
    headers: { 'Authorization': 'Bearer ' + KEY, 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body)
  })
  return { status: resp.status, body: await resp.json() }
}

function send (res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' })
  res.end(JSON.stringify(body))
}

function readJSON (req) {
  return new Promise((resolve, reject) => {
    let s = ''
    req.setEncoding('utf8')
    req.on('data', (c) => { s += c; if (s.length > 64 << 10) req.destroy() })
    req.on('end', () => { try { resolve(s ? JSON.parse(s) : {}) } catch (e) { reject(e) } })
    req.on('error', reject)
  })
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://x')
    const user = userOf(req)
    if (!user) return send(res, 401, { error: { code: 'unauthorized', message: 'please sign in' } })

    if (req.method === 'POST' && url.pathname === '/api/poster') {
      const ask = await readJSON(req)
      if (!TEMPLATES.has(ask.template)) return send(res, 400, { error: { code: 'invalid_request', message: 'unknown poster', field: 'template' } })
      // The page and the scene are ours to choose: the code opens PAGE with
      // the inviting user in the scene.
      const data = {}
      for (const [k, v] of Object.entries(ask.data || {})) data[k] = String(v)
      // ?wait: usually the finished poster comes back in this one request,
      // so the phone makes no second round trip to poll.
      const r = await wxposter('POST', '/v1/posters?wait=10', { template: ask.template, page: PAGE, scene: 'from:' + user, data })
      return send(res, r.status, r.body)
    }
    const m = url.pathname.match(/^\/api\/poster\/([0-9a-f]{1,64})$/)
    if (req.method === 'GET' && m) {
      const wait = Math.min(Math.max(parseInt(url.searchParams.get('wait') || '0', 10) || 0, 0), 10)
      const r = await wxposter('GET', '/v1/posters/' + m[1] + '?wait=' + wait)
      return send(res, r.status, r.body)
    }
    send(res, 404, { error: { code: 'not_found', message: 'no such endpoint' } })
  } catch (e) {
    send(res, 502, { error: { code: 'unavailable', message: 'the poster service could not be reached' } })
  }
})

server.listen(Number(process.env.PORT || 3000), process.env.HOST || '127.0.0.1', () => {
  const a = server.address()
  console.log('http://' + a.address + ':' + a.port)
})
