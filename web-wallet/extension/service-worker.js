// Kessai Wallet, the extension's service worker.
//
// It connects a page's payment request to a wallet window: it keeps the
// request (chrome.storage.session, because Chromium stops an idle service
// worker and its variables with it), opens the wallet in a popup window,
// gives the wallet the start message (host.js takeStart), and hands the
// wallet's result to the very document that asked (host.js deliverResult).
// Closing the window without paying answers the page "canceled".
//
// Listeners are registered at the top level, as MV3 requires for an event
// to wake a stopped worker.
"use strict";

const WALLET_PAGE = "wallet/index.html";
const WINDOW_WIDTH = 420;
const WINDOW_HEIGHT = 680;
// Bounds: payments waiting at once, and how long one may wait for the user.
const PENDING_MAX = 16;
const PENDING_AGE_MAX_MS = 60 * 60 * 1000;
const PENDING_PREFIX = "pending:";
// Settlement statuses (protocol crate, api::Status): a wallet's result must
// carry one of these.
const STATUSES = new Set([
    "awaiting_payer",
    "awaiting_merchant",
    "processing",
    "held",
    "succeeded",
    "declined",
    "mismatched",
    "expired",
    "canceled",
    "refunded",
    "partially_refunded",
]);

const pendingEntries = async () => {
    const items = await chrome.storage.session.get(null);
    return Object.entries(items).filter(([key]) => key.startsWith(PENDING_PREFIX));
};

// Forgets requests nobody answered within the bound (their window was lost
// without an onRemoved, e.g. the browser crashed) and says how many remain.
const prunePending = async () => {
    const entries = await pendingEntries();
    const now = Date.now();
    const stale = entries.filter(([, pending]) => now - pending.created_at > PENDING_AGE_MAX_MS);
    await chrome.storage.session.remove(stale.map(([key]) => key));
    return entries.length - stale.length;
};

const isWalletPage = (sender) =>
    sender.id === chrome.runtime.id &&
    typeof sender.url === "string" &&
    sender.url.startsWith(chrome.runtime.getURL(WALLET_PAGE));

const isWebPage = (sender) =>
    sender.id === chrome.runtime.id &&
    sender.tab !== undefined &&
    typeof sender.url === "string" &&
    /^https?:/.test(sender.url);

// A page asked to pay (content.js, which validated the shape).
const startPayment = async (request, sender) => {
    if (!isWebPage(sender)) {
        throw new Error("startPayment comes only from a web page's content script");
    }
    if (typeof request.request_id !== "string" || request.message?.type !== "kessai.start") {
        throw new Error("malformed startPayment");
    }
    if ((await prunePending()) >= PENDING_MAX) {
        throw new Error(`${PENDING_MAX} payments are already waiting for the wallet`);
    }
    const key = crypto.randomUUID();
    const pending = {
        tab_id: sender.tab.id,
        frame_id: sender.frameId,
        document_id: sender.documentId,
        origin: sender.origin,
        request_id: request.request_id,
        message: request.message,
        window_id: null,
        created_at: Date.now(),
    };
    await chrome.storage.session.set({ [PENDING_PREFIX + key]: pending });
    const window = await chrome.windows.create({
        type: "popup",
        url: chrome.runtime.getURL(`${WALLET_PAGE}#ext=${key}`),
        width: WINDOW_WIDTH,
        height: WINDOW_HEIGHT,
        focused: true,
    });
    // Kept so that closing the window answers the page (onRemoved below).
    pending.window_id = window.id;
    await chrome.storage.session.set({ [PENDING_PREFIX + key]: pending });
};

const takeStart = async (request, sender) => {
    if (!isWalletPage(sender)) {
        throw new Error("takeStart comes only from the wallet page");
    }
    const key = PENDING_PREFIX + String(request.key);
    const pending = (await chrome.storage.session.get(key))[key];
    return pending === undefined ? null : pending.message;
};

// Hands `result` to the document that asked; a tab closed or navigated
// since simply gets nothing (documentId makes sure no other page does).
const answerPage = async (pending, result) => {
    const message = {
        kind: "paymentResult",
        result: {
            request_id: pending.request_id,
            status: result.status,
            settlement_id: result.settlement_id,
            result_token: result.result_token,
        },
    };
    const target = pending.document_id ? { documentId: pending.document_id } : { frameId: pending.frame_id };
    try {
        await chrome.tabs.sendMessage(pending.tab_id, message, target);
    } catch (error) {
        console.warn("Kessai Wallet: the page that asked for the payment is gone", error);
    }
};

const parseResult = (result) => {
    const valid =
        result !== null &&
        typeof result === "object" &&
        STATUSES.has(result.status) &&
        typeof result.settlement_id === "string" &&
        (result.result_token === undefined || result.result_token === null || typeof result.result_token === "string");
    if (!valid) {
        throw new Error("deliverResult wants {status, settlement_id, result_token}");
    }
    return { status: result.status, settlement_id: result.settlement_id, result_token: result.result_token ?? null };
};

const deliverResult = async (request, sender) => {
    if (!isWalletPage(sender)) {
        throw new Error("deliverResult comes only from the wallet page");
    }
    const result = parseResult(request.result);
    const key = PENDING_PREFIX + String(request.key);
    const pending = (await chrome.storage.session.get(key))[key];
    if (pending === undefined) {
        throw new Error("no payment is waiting for this result (already answered, or opened from the toolbar)");
    }
    // Forgotten before the window closes, so that onRemoved does not also
    // answer "canceled".
    await chrome.storage.session.remove(key);
    await answerPage(pending, result);
    if (pending.window_id !== null) {
        chrome.windows.remove(pending.window_id).catch(() => {});
    }
};

const HANDLERS = { startPayment, takeStart, deliverResult };

chrome.runtime.onMessage.addListener((request, sender, sendResponse) => {
    const handler = Object.hasOwn(HANDLERS, request?.kind) ? HANDLERS[request.kind] : undefined;
    if (handler === undefined) {
        return false;
    }
    handler(request, sender).then(
        (value) => sendResponse({ ok: true, value: value ?? null }),
        (error) => {
            console.warn(`Kessai Wallet: ${request.kind}:`, error);
            sendResponse({ ok: false, error: String(error?.message ?? error) });
        },
    );
    return true; // sendResponse is called asynchronously
});

// The user closed the wallet window without paying: nothing was sent, so
// the page hears "canceled" and can offer the card form again.
chrome.windows.onRemoved.addListener(async (windowId) => {
    for (const [key, pending] of await pendingEntries()) {
        if (pending.window_id !== windowId) {
            continue;
        }
        await chrome.storage.session.remove(key);
        const settlementId = typeof pending.message.settlement_id === "string" ? pending.message.settlement_id : "";
        await answerPage(pending, { status: "canceled", settlement_id: settlementId, result_token: null });
    }
});
