// dom gives miniprogram-simulate the DOM it renders into (it expects a
// browser or jsdom, as jest provides).
const { JSDOM } = require('jsdom')

const dom = new JSDOM('<!doctype html><html><body></body></html>', { pretendToBeVisual: true })
// Node has its own Event and CustomEvent; the DOM's must win, or jsdom
// refuses the events j-component dispatches.
for (const k of ['window', 'document', 'navigator', 'Node', 'HTMLElement', 'Element', 'Event', 'CustomEvent', 'getComputedStyle', 'requestAnimationFrame', 'cancelAnimationFrame']) {
  const v = dom.window[k]
  Object.defineProperty(global, k, {
    value: typeof v === 'function' && !/^[A-Z]/.test(k) ? v.bind(dom.window) : v,
    configurable: true, writable: true
  })
}

module.exports = dom
