// Kessai checkout widget loader (PROTOCOL section 10). The settling server
// serves this file next to the wasm-bindgen output (kessai_checkout.js and
// kessai_checkout_bg.wasm). It defines <kessai-checkout> and window.Kessai;
// everything else happens in Rust (mount).
import init, { mount as mountWasm } from './kessai_checkout.js';

const ATTRIBUTES = {
  server: 'server',
  'settlement-id': 'settlementId',
  'client-secret': 'clientSecret',
  'merchant-id': 'merchantId',
  order: 'order',
  'return-url': 'returnUrl',
  lang: 'lang',
  'wallet-url': 'walletUrl',
};

const ready = init({ module_or_path: new URL('./kessai_checkout_bg.wasm', import.meta.url) });

// Never a blank box: if the wasm cannot load, say so in the element.
function fail(element, error) {
  console.error('Kessai checkout: the widget could not load', error);
  if (element) {
    element.textContent =
      (document.documentElement.lang || navigator.language || '').startsWith('ja')
        ? 'お支払いフォームを読み込めませんでした。ページを再読み込みしてください。'
        : 'The payment form could not be loaded. Please reload the page.';
    element.setAttribute('role', 'alert');
  }
}

async function mount(target, options = {}) {
  const element = typeof target === 'string' ? document.querySelector(target) : target;
  if (!(element instanceof HTMLElement)) {
    console.error('Kessai checkout: Kessai.mount found no element for', target);
    throw new TypeError('Kessai.mount: no element for ' + String(target));
  }
  try {
    await ready;
  } catch (error) {
    fail(element, error);
    throw error;
  }
  mountWasm(element, options);
  return element;
}

class KessaiCheckout extends HTMLElement {
  connectedCallback() {
    if (this._kessaiMounted) return;
    this._kessaiMounted = true;
    const options = {};
    for (const [attribute, property] of Object.entries(ATTRIBUTES)) {
      if (this.hasAttribute(attribute)) options[property] = this.getAttribute(attribute);
    }
    ready.then(() => mountWasm(this, options), (error) => fail(this, error));
  }
}

if (!customElements.get('kessai-checkout')) customElements.define('kessai-checkout', KessaiCheckout);
window.Kessai = Object.freeze({ mount });
export { mount };
