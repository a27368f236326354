// Signing a handover document in the browser with the officer's own Ed25519 key (WebCrypto).
//
// The key file holds the key's 32-byte seed in base64 (as `handover officer keygen` writes it). The page wraps the
// seed in the fixed PKCS#8 prefix for Ed25519, imports it, signs the document's exact bytes and puts only the
// signature in the form. The file input sits outside the form and has no name: the key is never sent.
(function () {
  "use strict";

  // PKCS#8 PrivateKeyInfo for Ed25519 (RFC 8410), up to the 32 bytes of the seed.
  const PKCS8_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

  function fromBase64(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function toBase64(bytes) {
    let binary = "";
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary);
  }

  function base64UrlToBase64(text) {
    const plain = text.replace(/-/g, "+").replace(/_/g, "/");
    return plain + "=".repeat((4 - (plain.length % 4)) % 4);
  }

  // The seed from a key file: one base64 line (comment lines starting with # are skipped).
  function seedFrom(text) {
    const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    if (lines.length !== 1 || !/^[A-Za-z0-9+/]+={0,2}$/.test(lines[0])) throw new Error("not a key file");
    const seed = fromBase64(lines[0]);
    if (seed.length !== 32) throw new Error("not a 32-byte seed");
    return seed;
  }

  async function importSeed(seed) {
    const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + 32);
    pkcs8.set(PKCS8_PREFIX);
    pkcs8.set(seed, PKCS8_PREFIX.length);
    try {
      // Extractable only so that the page can read the public half and find whose key it is.
      return await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
    } finally {
      pkcs8.fill(0);
      seed.fill(0);
    }
  }

  async function publicKeyOf(key) {
    const jwk = await crypto.subtle.exportKey("jwk", key);
    const x = jwk.x;
    delete jwk.d;
    return base64UrlToBase64(x);
  }

  function setUp(widget) {
    const status = widget.querySelector("[data-sign-status]");
    const fileInput = widget.querySelector("[data-key-file]");
    const form = widget.querySelector("form[data-sign-form]");
    const officer = form.querySelector("select[name=officer_id]");
    const signatureField = form.querySelector("input[name=signature]");
    const button = form.querySelector("button[type=submit]");
    const documentBytes = fromBase64(widget.dataset.document);
    const say = (message, kind) => {
      status.textContent = message;
      status.dataset.kind = kind;
    };
    let key = null;

    if (!window.isSecureContext || !window.crypto || !crypto.subtle) {
      say(widget.dataset.msgInsecure, "error");
      fileInput.disabled = true;
      return;
    }

    fileInput.addEventListener("change", async () => {
      key = null;
      button.disabled = true;
      const file = fileInput.files && fileInput.files[0];
      if (!file) return;
      try {
        key = await importSeed(seedFrom(await file.text()));
        const publicKey = await publicKeyOf(key);
        const match = Array.from(officer.options).find((o) => o.dataset.publicKey === publicKey);
        if (match) {
          officer.value = match.value;
          say(widget.dataset.msgMatched.replace("{name}", match.textContent.trim()), "ok");
        } else {
          say(widget.dataset.msgUnmatched, "warn");
        }
        button.disabled = false;
      } catch (error) {
        key = null;
        say(widget.dataset.msgBadFile, "error");
      } finally {
        fileInput.value = "";
      }
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!key) {
        say(widget.dataset.msgNoKey, "error");
        return;
      }
      button.disabled = true;
      say(widget.dataset.msgSigning, "ok");
      const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", key, documentBytes));
      key = null;
      signatureField.value = toBase64(signature);
      form.submit(); // submit() does not fire this handler again
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-signing]").forEach(setUp);
  });
})();
