// Reading QR codes in the browser with ZXing-C++ compiled to WebAssembly (zxing-wasm, served
// by us from static/vendor/zxing-wasm: the same decoder the tests and ocop-verify use).
// Nothing is fetched from another host: the .wasm path is set before the first read.

import { prepareZXingModule, readBarcodes } from "../vendor/zxing-wasm/es/reader/index.js";

const WASM = new URL("../vendor/zxing-wasm/reader/zxing_reader.wasm", import.meta.url).href;
let prepared = null;

function ready() {
  prepared ??= prepareZXingModule({
    overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? WASM : prefix + path) },
    fireImmediately: true,
  });
  return prepared;
}

const OPTIONS = { formats: ["QRCode"], tryHarder: true, maxNumberOfSymbols: 255 };

/** The text of every QR code in an ImageData (a camera frame drawn on a canvas), a Blob or
 * File (a photo), or an ArrayBuffer/Uint8Array of an image file. */
export async function decodeQr(image) {
  await ready();
  const found = await readBarcodes(image, OPTIONS);
  return found.filter((code) => code.isValid).map((code) => code.text);
}
