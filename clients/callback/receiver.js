// A minimal receiver of wxposter's batch callbacks on node:http:
//   WXPOSTER_CALLBACK_SECRET=… node receiver.js 8090
const http = require('node:http')
const { verify, HEADER } = require('./verify')

const secret = process.env.WXPOSTER_CALLBACK_SECRET
const seen = new Set() // delivery ids already handled (use your database)

http.createServer((req, res) => {
  const chunks = []
  req.on('data', c => chunks.push(c))
  req.on('end', () => {
    const raw = Buffer.concat(chunks) // the raw body: verify before JSON.parse
    try {
      verify(secret, raw, req.headers[HEADER])
    } catch (e) {
      res.writeHead(400).end(e.message)
      return
    }
    const event = JSON.parse(raw)
    if (!seen.has(event.delivery_id)) { // delivered at least once: dedupe
      seen.add(event.delivery_id)
      console.log(JSON.stringify({ delivery_id: event.delivery_id, batch: event.batch.id, status: event.batch.status }))
    }
    res.writeHead(204).end() // any 2xx stops the retries
  })
}).listen(Number(process.argv[2] || 8090), '127.0.0.1', function () {
  console.log(JSON.stringify({ listening: this.address().port }))
})
