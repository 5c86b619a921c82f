// Resolves the parameters of the mini-program code that opened this page.
// Inline scenes ("k:v;k:v") are parsed locally; references ("~…") are
// fetched from the poster API.
const BASE = 'https://poster.example.com' // your wxposter API

function parseInline(scene) {
  const params = {}
  const pairs = scene.split(';')
  for (let i = 0; i < pairs.length; i++) {
    const kv = pairs[i].split(':')
    if (kv.length !== 2 || !kv[0] || !kv[1] || Object.prototype.hasOwnProperty.call(params, kv[0])) return null
    params[kv[0]] = kv[1]
  }
  return params
}

// resolveScene(options) -> Promise of the params object, or of null when the
// page was not opened from a code.
function resolveScene(options, base) {
  base = base || BASE
  return new Promise((resolve, reject) => {
    if (!options || !options.scene) return resolve(null)
    const scene = decodeURIComponent(options.scene)
    if (scene.charAt(0) !== '~') {
      const params = parseInline(scene)
      return params ? resolve(params) : reject(new Error('scene carries no parameters: ' + scene))
    }
    wx.request({
      url: base + '/v1/scenes/' + encodeURIComponent(scene),
      method: 'GET',
      success(res) {
        if (res.statusCode === 200 && res.data && res.data.params) resolve(res.data.params)
        else reject(new Error('scene ' + scene + ': HTTP ' + res.statusCode))
      },
      fail: reject,
    })
  })
}

module.exports = { resolveScene, parseInline }
