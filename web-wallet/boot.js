// Loads the wallet. A file of its own rather than the inline script Trunk
// would inject, because an extension page's content security policy
// forbids inline scripts. Relative, so it works wherever the folder is served.
import init from "./kessai-wallet.js";

init({ module_or_path: new URL("./kessai-wallet_bg.wasm", import.meta.url) });
