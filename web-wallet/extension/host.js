// Kessai Wallet, the extension's side of the seam with the web wallet app.
//
// The wallet (Yew, built by Trunk) runs unchanged in the extension; this
// classic script, loaded before the wasm, tells it where it runs and gives
// it what the extension offers instead of the web's localStorage and
// window.opener: chrome.storage.local for its state, and the service
// worker for the page's payment request and the answer to it.
(() => {
    "use strict";

    const KEY_IN_HASH = /^#ext=([0-9a-f-]{36})$/;
    const SESSION_KEY = "kessai-extension-request";

    // The service worker opens this page as `wallet/index.html#ext=<key>`
    // for a payment. The key is kept for a reload of this window and taken
    // out of the URL, so the wallet's own routing never sees it. Opened
    // from the toolbar, there is no key: the wallet shows its home screen.
    const requestKey = (() => {
        const found = KEY_IN_HASH.exec(location.hash);
        if (found !== null) {
            sessionStorage.setItem(SESSION_KEY, found[1]);
            history.replaceState(null, "", location.pathname + location.search);
            return found[1];
        }
        return sessionStorage.getItem(SESSION_KEY);
    })();

    // The service worker answers {ok, value} or {ok: false, error}.
    const ask = async (kind, fields) => {
        const reply = await chrome.runtime.sendMessage({ kind, key: requestKey, ...fields });
        if (reply?.ok !== true) {
            throw new Error(`Kessai Wallet extension: ${kind}: ${reply?.error ?? "no answer"}`);
        }
        return reply.value;
    };

    window.kessaiWalletHost = Object.freeze({
        kind: "extension",

        // The wallet's state, e.g. under "kessai-wallet". Strings only, as
        // with localStorage, so the wallet treats both hosts alike.
        async load(key) {
            const items = await chrome.storage.local.get(key);
            return typeof items[key] === "string" ? items[key] : null;
        },

        async save(key, value) {
            await chrome.storage.local.set({ [key]: String(value) });
        },

        // The start message the page sent with kessai:startPayment, or null.
        async takeStart() {
            if (requestKey === null) {
                return null;
            }
            return ask("takeStart", {});
        },

        // {status, settlement_id, result_token}: the service worker adds the
        // page's request_id, hands it to the page and closes this window.
        deliverResult(result) {
            if (requestKey === null) {
                console.warn("Kessai Wallet: no page is waiting for a result (opened from the toolbar)");
                return;
            }
            ask("deliverResult", { result }).catch((error) => console.error(error));
        },
    });
})();
