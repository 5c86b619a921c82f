// share-poster: the poster button of a mini-program page.
//
// It asks YOUR backend for a poster (your backend holds the wxposter API key
// and calls wxposter; see docs/miniprogram.md for the two routes it needs),
// long-polls until the poster is made, downloads it, shows it, and opens
// WeChat's share menu (wx.showShareImageMenu: send to a friend, share to
// Moments, save). "保存到相册" falls back to wx.saveImageToPhotosAlbum, with
// the privacy agreement (wx.requirePrivacyAuthorize, errno 112) and a denied
// album permission (wx.openSetting) handled with clear messages.
//
// Properties:
//   endpoint      your backend: POST endpoint → a wxposter job,
//                 GET endpoint/<id>?wait=<s> → the job (long poll)
//   request       the poster to make (e.g. {template, data, params}), sent
//                 to your backend as the POST body; your backend decides what
//                 to pass on
//   header        extra request headers for your backend (your session)
//   buttonText    the button's label
//   timeout       ms before giving up on a poster (default 60000)
//   entrancePath  the page a shared image opens (showShareImageMenu)
//   autoShare     open the share menu as soon as the poster is ready (default true)
// Events:
//   done   {url, path}   the poster is downloaded (path: a local temp file)
//   error  {code, message} something failed; the message is for people
//   shared {path}        the share menu was opened
//   saved  {path}        the poster is in the album

const POLL_WAIT = 10 // seconds the backend may hold one poll (wxposter's ?wait=)
const MAX_POLL_ERRORS = 3 // network failures in a row before giving up

const MESSAGES = {
  network: '网络不给力，请检查网络后重试',
  timeout: '海报生成超时，请稍后重试',
  backend: '海报服务暂时不可用，请稍后重试',
  download: '海报下载失败，请重试',
  privacy_denied: '需要你同意隐私保护指引后才能保存图片',
  privacy_not_declared: '小程序的隐私保护指引未声明相册权限，暂时无法保存（开发者：在公众平台 设置 → 服务内容声明 → 用户隐私保护指引 中添加“相册（仅写入）”）',
  album_denied: '没有相册权限，无法保存海报。可在设置中开启“添加到相册”后重试',
  save_failed: '保存失败，请长按海报图片保存',
  share_failed: '无法打开分享菜单，请长按海报图片分享'
}

// call turns a callback API of wx into a promise.
function call (api, options) {
  return new Promise((resolve, reject) => {
    wx[api](Object.assign({}, options, { success: resolve, fail: reject }))
  })
}

// problem is an error with a code and a message for people.
function problem (code, message, detail) {
  const e = new Error(message || MESSAGES[code] || code)
  e.code = code
  if (detail) e.detail = detail
  return e
}

function errMsg (e) {
  return (e && (e.errMsg || e.message)) || ''
}

Component({
  properties: {
    endpoint: { type: String, value: '' },
    request: { type: Object, value: {} },
    header: { type: Object, value: {} },
    buttonText: { type: String, value: '生成分享海报' },
    timeout: { type: Number, value: 60000 },
    entrancePath: { type: String, value: '' },
    autoShare: { type: Boolean, value: true }
  },

  data: {
    state: 'idle', // idle | working | ready | error
    busy: false,
    progress: 0,
    message: '',
    hint: '',
    imagePath: '',
    url: ''
  },

  methods: {
    // make asks for the poster and carries it all the way to the share menu.
    async make () {
      if (this.data.busy) return
      this.setData({ state: 'working', busy: true, progress: 5, message: '正在提交…', hint: '' })
      try {
        const url = await this._poster()
        this.setData({ progress: 85, message: '正在下载海报…' })
        const path = await this._download(url)
        this.setData({ state: 'ready', busy: false, progress: 100, message: '', imagePath: path, url })
        this.triggerEvent('done', { url, path })
        if (this.data.autoShare) await this.share()
      } catch (e) {
        this._fail(e)
      }
    },

    // _poster submits the request and long-polls the job until it has a URL.
    async _poster () {
      const endpoint = this.data.endpoint.replace(/\/+$/, '')
      if (!endpoint) throw problem('config', '未设置 endpoint（你的后端生成海报的地址）')
      const deadline = Date.now() + this.data.timeout
      let job = await this._request({ url: endpoint, method: 'POST', data: this.data.request })
      let failures = 0
      for (;;) {
        if (job.status === 'succeeded' && job.url) return job.url
        if (job.status === 'failed') {
          const e = job.error || {}
          throw problem('poster_failed', '海报生成失败' + (e.message ? '：' + e.message : ''), e)
        }
        if (!job.id) throw problem('backend', MESSAGES.backend, job)
        const left = deadline - Date.now()
        if (left <= 0) throw problem('timeout')
        this.setData({
          progress: job.status === 'queued' ? 30 : 60,
          message: job.status === 'queued' ? '排队中…' : '正在生成海报…'
        })
        const wait = Math.max(1, Math.min(POLL_WAIT, Math.floor(left / 1000)))
        try {
          job = await this._request({ url: endpoint + '/' + encodeURIComponent(job.id) + '?wait=' + wait, method: 'GET', timeout: (wait + 5) * 1000 })
          failures = 0
        } catch (e) {
          // A dropped poll is retried: the job goes on without us.
          if (e.code !== 'network' || ++failures >= MAX_POLL_ERRORS) throw e
        }
      }
    },

    // _request calls your backend and returns the JSON job.
    async _request (options) {
      let res
      try {
        res = await call('request', Object.assign({ header: this.data.header, timeout: 15000 }, options))
      } catch (e) {
        throw problem('network', MESSAGES.network, errMsg(e))
      }
      const body = res.data || {}
      if (res.statusCode >= 200 && res.statusCode < 300) return body
      const e = body.error || {}
      if (res.statusCode >= 400 && res.statusCode < 500 && e.message) {
        throw problem(e.code || 'bad_request', '无法生成海报：' + e.message, e)
      }
      throw problem('backend', MESSAGES.backend, 'HTTP ' + res.statusCode)
    },

    // _download fetches the poster into a local temp file: the share menu and
    // the album take local paths only.
    async _download (url) {
      let res
      try {
        res = await call('downloadFile', { url })
      } catch (e) {
        throw problem(/domain list/.test(errMsg(e)) ? 'domain' : 'network',
          /domain list/.test(errMsg(e)) ? '海报域名未加入 downloadFile 合法域名（开发者：见 docs/miniprogram.md）' : MESSAGES.download, errMsg(e))
      }
      // success fires for any HTTP status.
      if (res.statusCode !== 200 || !res.tempFilePath) throw problem('download', MESSAGES.download, 'HTTP ' + res.statusCode)
      return res.tempFilePath
    },

    // share opens WeChat's share menu (friend, Moments, favourite, save).
    async share () {
      const path = this.data.imagePath
      if (!path) return
      if (!wx.showShareImageMenu || (wx.canIUse && !wx.canIUse('showShareImageMenu'))) {
        this.setData({ hint: '长按海报可发送给朋友或保存' })
        return
      }
      const options = { path }
      if (this.data.entrancePath) options.entrancePath = this.data.entrancePath
      try {
        await call('showShareImageMenu', options)
        this.triggerEvent('shared', { path })
      } catch (e) {
        if (/cancel/.test(errMsg(e))) return
        this.setData({ hint: MESSAGES.share_failed })
      }
    },

    // save puts the poster in the album: the privacy agreement first, then
    // the album permission, asking the user to open the settings if it was
    // refused before.
    async save () {
      const filePath = this.data.imagePath
      if (!filePath) return
      try {
        if (wx.requirePrivacyAuthorize) {
          try {
            await call('requirePrivacyAuthorize', {})
          } catch (e) {
            throw problem('privacy_denied', MESSAGES.privacy_denied, errMsg(e))
          }
        }
        await this._saveOnce(filePath)
      } catch (e) {
        if (e.code === 'album_denied') {
          const opened = await this._askSettings()
          if (!opened) return this._hint(e)
          try {
            await this._saveOnce(filePath)
          } catch (e2) {
            return this._hint(e2)
          }
        } else if (e.code === 'cancel') {
          return
        } else {
          return this._hint(e)
        }
      }
      wx.showToast && wx.showToast({ title: '已保存到相册', icon: 'success' })
      this.triggerEvent('saved', { path: filePath })
    },

    async _saveOnce (filePath) {
      try {
        await call('saveImageToPhotosAlbum', { filePath })
      } catch (e) {
        const msg = errMsg(e)
        if (e.errno === 112 || /not declared in the privacy agreement/.test(msg)) throw problem('privacy_not_declared', MESSAGES.privacy_not_declared, msg)
        if (/privacy permission is not authorized/.test(msg)) throw problem('privacy_denied', MESSAGES.privacy_denied, msg)
        if (/auth den|auth deny|authorize/.test(msg)) throw problem('album_denied', MESSAGES.album_denied, msg)
        if (/cancel/.test(msg)) throw problem('cancel', '', msg)
        throw problem('save_failed', MESSAGES.save_failed, msg)
      }
    },

    // _askSettings explains the refused permission and opens the settings
    // (wx.openSetting must follow a tap: the modal's button is one). It
    // reports whether the album may now be written.
    async _askSettings () {
      try {
        const r = await call('showModal', { title: '需要相册权限', content: '保存海报需要“添加到相册”权限，去设置中开启？', confirmText: '去设置' })
        if (!r.confirm) return false
        const s = await call('openSetting', {})
        return !!(s.authSetting && s.authSetting['scope.writePhotosAlbum'])
      } catch (e) {
        return false
      }
    },

    _hint (e) {
      this.setData({ hint: e.message })
      this.triggerEvent('error', { code: e.code || 'error', message: e.message })
    },

    _fail (e) {
      const code = e.code || 'error'
      const message = e.code ? e.message : MESSAGES.backend
      this.setData({ state: 'error', busy: false, progress: 0, message })
      this.triggerEvent('error', { code, message })
    }
  }
})
