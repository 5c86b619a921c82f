// Verifies wxposter's signed batch callbacks (Node >= 16, no dependencies).
const crypto = require('node:crypto')

const HEADER = 'x-wxposter-signature'
const DEFAULT_TOLERANCE_SECONDS = 300

// verify checks header ("t=<unix seconds>,v1=<hex HMAC-SHA256>") against the
// raw request body (a Buffer, exactly as received: not re-encoded JSON) and
// secret (WXPOSTER_CALLBACK_SECRET). It throws unless the signature matches
// (compared in constant time) and the timestamp is within tolerance of now.
function verify(secret, rawBody, header, { now = Date.now(), toleranceSeconds = DEFAULT_TOLERANCE_SECONDS } = {}) {
  let ts = ''
  const sigs = []
  for (const part of String(header || '').split(',')) {
    const [k, v = ''] = part.trim().split('=', 2)
    if (k === 't') ts = v
    if (k === 'v1' && /^[0-9a-f]+$/i.test(v) && v.length % 2 === 0) sigs.push(Buffer.from(v, 'hex'))
  }
  if (!/^\d+$/.test(ts) || sigs.length === 0) throw new Error('malformed signature header')
  const want = crypto.createHmac('sha256', secret).update(ts + '.').update(rawBody).digest()
  const ok = sigs.some(s => s.length === want.length && crypto.timingSafeEqual(s, want))
  if (!ok) throw new Error('signature does not match')
  if (Math.abs(now / 1000 - Number(ts)) > toleranceSeconds) throw new Error('timestamp outside the tolerance')
}

module.exports = { verify, HEADER, DEFAULT_TOLERANCE_SECONDS }
