// Kessai Wallet, content script in the extension's isolated world.
//
// page-bridge.js (in the page's world) validates the page's
// kessai:startPayment and relays it here as a JSON string; this script,
// which alone has the extension API, hands it to the service worker, and
// hands the wallet's result back the same way. Everything from the page is
// untrusted: the page can fire the private events itself, so this checks
// again what page-bridge.js checked.
(() => {
    "use strict";

    const TO_EXTENSION = "kessai-extension:start";
    const TO_PAGE = "kessai-extension:result";
    const REQUEST_ID_LEN_MAX = 200;
    const MESSAGE_JSON_LEN_MAX = 64 * 1024;

    const toPage = (result) => {
        window.dispatchEvent(new CustomEvent(TO_PAGE, { detail: JSON.stringify(result) }));
    };

    const parseStart = (json) => {
        if (typeof json !== "string" || json.length > MESSAGE_JSON_LEN_MAX) {
            return null;
        }
        let start;
        try {
            start = JSON.parse(json);
        } catch {
            return null;
        }
        const valid =
            start !== null &&
            typeof start === "object" &&
            typeof start.request_id === "string" &&
            start.request_id.length > 0 &&
            start.request_id.length <= REQUEST_ID_LEN_MAX &&
            start.message !== null &&
            typeof start.message === "object" &&
            start.message.type === "kessai.start";
        return valid ? { request_id: start.request_id, message: start.message } : null;
    };

    window.addEventListener(TO_EXTENSION, (event) => {
        const start = parseStart(event.detail);
        if (start === null) {
            return;
        }
        chrome.runtime
            .sendMessage({ kind: "startPayment", ...start })
            .then((reply) => {
                if (reply?.ok !== true) {
                    throw new Error(reply?.error ?? "no answer from the service worker");
                }
            })
            .catch((error) => {
                // The wallet did not open (the extension was updated since
                // this page loaded, too many payments open): tell the page
                // now rather than leave it waiting. Nothing was paid.
                console.warn("Kessai Wallet: the wallet could not be opened", error);
                const settlementId =
                    typeof start.message.settlement_id === "string" ? start.message.settlement_id : "";
                toPage({ request_id: start.request_id, status: "canceled", settlement_id: settlementId, result_token: null });
            });
    });

    chrome.runtime.onMessage.addListener((message, sender) => {
        // Only the service worker (no tab) may hand this page a result.
        if (sender.id !== chrome.runtime.id || sender.tab !== undefined) {
            return;
        }
        if (message?.kind === "paymentResult" && typeof message.result?.request_id === "string") {
            toPage(message.result);
        }
    });
})();
