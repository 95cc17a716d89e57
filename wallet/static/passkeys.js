// Passkeys (WebAuthn Level 3): runs navigator.credentials.create() / get() for a
// form marked data-passkey="create" | "get", with the options the server put in
// data-passkey-options (JSON, binary values in base64url), asks the PRF extension
// for data-prf-salt, fills the form's hidden credential / prf / prf_enabled
// fields and sends the form. No inline script, nothing from elsewhere (CSP).
(function () {
  "use strict";

  function toB64u(buffer) {
    var bytes = new Uint8Array(buffer), text = "";
    for (var i = 0; i < bytes.length; i += 1) { text += String.fromCharCode(bytes[i]); }
    return window.btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromB64u(value) {
    var text = window.atob(value.replace(/-/g, "+").replace(/_/g, "/"));
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i += 1) { bytes[i] = text.charCodeAt(i); }
    return bytes;
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return { type: item.type, id: fromB64u(item.id), transports: item.transports };
    });
  }

  function publicKeyOptions(kind, options, salt) {
    var publicKey = Object.assign({}, options, { challenge: fromB64u(options.challenge) });
    if (kind === "create") {
      publicKey.user = Object.assign({}, options.user, { id: fromB64u(options.user.id) });
      publicKey.excludeCredentials = descriptors(options.excludeCredentials);
    } else {
      publicKey.allowCredentials = descriptors(options.allowCredentials);
    }
    if (salt) { publicKey.extensions = { prf: { eval: { first: fromB64u(salt) } } }; }
    return publicKey;
  }

  function serialise(credential) {
    var response = credential.response, out = {
      id: credential.id, rawId: toB64u(credential.rawId), type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: {}, response: { clientDataJSON: toB64u(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      out.response.attestationObject = toB64u(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = toB64u(response.authenticatorData);
      out.response.signature = toB64u(response.signature);
      if (response.userHandle) { out.response.userHandle = toB64u(response.userHandle); }
    }
    return out;
  }

  function start(form, event) {
    event.preventDefault();
    var status = form.querySelector("[data-passkey-status]");
    var say = function (text) { if (status) { status.textContent = text; } };
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(form.dataset.unsupported || "This browser cannot use passkeys.");
      return;
    }
    var kind = form.dataset.passkey;
    var publicKey = publicKeyOptions(kind, JSON.parse(form.dataset.passkeyOptions), form.dataset.prfSalt);
    say(form.dataset.waiting || "Follow your browser's prompt…");
    var call = kind === "create" ? navigator.credentials.create({ publicKey: publicKey })
      : navigator.credentials.get({ publicKey: publicKey });
    call.then(function (credential) {
      var prf = (credential.getClientExtensionResults() || {}).prf || {};
      form.elements.credential.value = JSON.stringify(serialise(credential));
      if (prf.results && prf.results.first) { form.elements.prf.value = toB64u(prf.results.first); }
      if (prf.enabled) { form.elements.prf_enabled.value = "1"; }
      form.submit();
    }).catch(function (error) {
      say((form.dataset.failed || "The passkey was not used") + " (" + error.name + ").");
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-passkey]"), function (form) {
    form.addEventListener("submit", function (event) { start(form, event); });
  });
}());
