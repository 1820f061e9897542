// Page distillation, run inside the page by Playwright's `page.evaluate`.
//
// op "observe": number every visible interactive element (data-llmos-id),
//   compute its accessible label, value and form context, and summarise the
//   visible text. Returns {url, title, elements, text, pixelsAbove, pixelsBelow}.
// op "fingerprint": the fingerprint of element `id` now, or null if the number
//   no longer names exactly one element (the page changed: a stale number).
// op "markSecrets": flag fields whose value holds one of `values`, so a
//   screenshot can mask them.
(args) => {
  const ATTR = "data-llmos-id";
  const clip = (s, n) => {
    s = (s || "").replace(/\s+/g, " ").trim();
    return s.length > n ? s.slice(0, n - 1) + "\u2026" : s;
  };
  const tag = (el) => el.tagName.toLowerCase();

  const visible = (el) => {
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden" || style.visibility === "collapse") return false;
    if (parseFloat(style.opacity) === 0) return false;
    if (el.closest("[hidden], [aria-hidden='true'], [inert]")) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };

  const INTERACTIVE_ROLES = new Set(["button", "link", "checkbox", "radio", "tab", "menuitem",
    "menuitemcheckbox", "menuitemradio", "option", "switch", "combobox", "textbox", "searchbox",
    "slider", "spinbutton", "treeitem"]);
  const interactive = (el) => {
    const t = tag(el);
    if (t === "a") return el.hasAttribute("href");
    if (t === "input") return el.type !== "hidden";
    if (["button", "select", "textarea", "summary"].includes(t)) return true;
    if (INTERACTIVE_ROLES.has(el.getAttribute("role"))) return true;
    if (el.isContentEditable && !(el.parentElement && el.parentElement.isContentEditable)) return true;
    if (el.hasAttribute("onclick")) return true;
    const ti = el.getAttribute("tabindex");
    return ti !== null && parseInt(ti, 10) >= 0;
  };

  const role = (el) => {
    const explicit = el.getAttribute("role");
    if (explicit) return explicit;
    const t = tag(el);
    if (t === "a") return "link";
    if (t === "button" || t === "summary") return "button";
    if (t === "select") return el.multiple ? "listbox" : "combobox";
    if (t === "textarea") return "textbox";
    if (t === "input") {
      const it = (el.type || "text").toLowerCase();
      if (["checkbox", "radio"].includes(it)) return it;
      if (["submit", "button", "reset", "image"].includes(it)) return "button";
      if (it === "range") return "slider";
      if (it === "number") return "spinbutton";
      if (it === "search") return "searchbox";
      return "textbox";
    }
    if (el.isContentEditable) return "textbox";
    return "button";
  };

  const textOf = (el) => clip(el.innerText || el.textContent || "", 200);

  // Accessible name, following the order of the W3C accname steps we need.
  const label = (el) => {
    const by = el.getAttribute("aria-labelledby");
    if (by) {
      const parts = by.split(/\s+/).map((id) => document.getElementById(id)).filter(Boolean).map(textOf);
      if (parts.join("").trim()) return clip(parts.join(" "), 100);
    }
    const aria = el.getAttribute("aria-label");
    if (aria && aria.trim()) return clip(aria, 100);
    const t = tag(el);
    const field = ["input", "select", "textarea"].includes(t);
    if (field) {
      if (el.labels && el.labels.length) {
        const txt = Array.from(el.labels).map(textOf).join(" ");
        if (txt.trim()) return clip(txt, 100);
      }
      if (t === "input" && ["submit", "button", "reset"].includes(el.type) && el.value) return clip(el.value, 100);
      if (t === "input" && el.type === "image" && el.alt) return clip(el.alt, 100);
    } else {
      const txt = textOf(el);
      if (txt) return clip(txt, 100);
      const img = el.querySelector("img[alt]");
      if (img && img.alt.trim()) return clip(img.alt, 100);
    }
    for (const a of ["title", "placeholder", "name"]) {
      const v = el.getAttribute(a);
      if (v && v.trim()) return clip(v, 100);
    }
    if (t === "input" && el.type === "submit") return "Submit";
    return "";
  };

  const formOf = (el) => el.form || el.closest("form");
  const formName = (f) => {
    if (!f) return null;
    return clip(f.getAttribute("aria-label") || f.getAttribute("name") || f.id ||
                (f.getAttribute("action") || "").split("?")[0] || "form", 60);
  };

  const value = (el) => {
    const t = tag(el);
    if (t === "select") return clip(Array.from(el.selectedOptions).map((o) => o.text).join(", "), 100);
    if (t === "input" && el.type === "password") return el.value ? "***" : "";
    if (t === "input" && ["checkbox", "radio", "submit", "button", "reset", "image"].includes(el.type)) return "";
    if (t === "input" || t === "textarea") return clip(el.value, 200);
    if (el.isContentEditable) return clip(el.innerText, 200);
    return "";
  };

  // What identifies the element to the person, minus its value (typing into a
  // field must not make the next click on the same page look stale).
  const fingerprint = (el) => [tag(el), role(el), label(el), el.getAttribute("type") || "",
    el.getAttribute("name") || "", el.getAttribute("href") || "", formName(formOf(el)) || ""].join("|");

  // Facts the safety policy classifies by; kept out of the model's view.
  const CARD = /(card|cc-|cvv|cvc|csc|expir|security code|iban|account number)/i;
  const describeField = (f) => [f.getAttribute("autocomplete") || "", f.name || "", f.id || "",
    f.getAttribute("placeholder") || "", f.labels ? Array.from(f.labels).map(textOf).join(" ") : ""].join(" ");
  const safety = (el) => {
    const f = formOf(el);
    const t = tag(el);
    const it = (el.getAttribute("type") || "").toLowerCase();
    const submits = !!f && ((t === "button" && (it === "" || it === "submit")) ||
                            (t === "input" && (it === "submit" || it === "image")));
    let hasPassword = false, hasCard = false;
    if (f) {
      for (const field of f.querySelectorAll("input, select, textarea")) {
        if (field.type === "password") hasPassword = true;
        if (CARD.test(describeField(field))) hasCard = true;
      }
    }
    return { submitsForm: submits, formHasPassword: hasPassword, formHasPayment: hasCard,
             fieldDescription: ["input", "textarea", "select"].includes(t) ? clip(describeField(el), 200) : "" };
  };

  if (args.op === "fingerprint") {
    const found = document.querySelectorAll(`[${ATTR}="${args.id}"]`);
    if (found.length !== 1 || !found[0].isConnected || !visible(found[0])) return null;
    return fingerprint(found[0]);
  }

  if (args.op === "markSecrets") {
    let n = 0;
    for (const el of document.querySelectorAll("input, textarea, [contenteditable]")) {
      const v = el.isContentEditable ? el.innerText : el.value;
      if (v && args.values.some((s) => v.includes(s))) { el.setAttribute("data-llmos-secret", "1"); n++; }
    }
    return n;
  }

  // op === "observe"
  for (const old of document.querySelectorAll(`[${ATTR}]`)) old.removeAttribute(ATTR);
  const vw = window.innerWidth, vh = window.innerHeight;
  const elements = [];
  const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_ELEMENT);
  for (let el = walker.currentNode; el; el = walker.nextNode()) {
    if (elements.length >= args.maxElements) break;
    if (!interactive(el) || !visible(el)) continue;
    const index = elements.length;
    el.setAttribute(ATTR, String(index));
    const t = tag(el);
    const r = el.getBoundingClientRect();
    const checkable = t === "input" && ["checkbox", "radio"].includes(el.type);
    elements.push({
      index, tag: t, role: role(el), label: label(el), value: value(el),
      input_type: t === "input" ? (el.type || "text") : null,
      options: t === "select" ? Array.from(el.options).map((o) => clip(o.text, 60)).slice(0, 50) : [],
      checked: checkable ? el.checked : (el.getAttribute("aria-checked") === null ? null : el.getAttribute("aria-checked") === "true"),
      disabled: !!el.disabled || el.getAttribute("aria-disabled") === "true",
      href: t === "a" ? el.href : null,
      form: formName(formOf(el)),
      in_viewport: r.bottom > 0 && r.right > 0 && r.top < vh && r.left < vw,
      fingerprint: fingerprint(el),
      safety: safety(el),
    });
  }
  const body = document.body;
  const text = body ? (body.innerText || "").replace(/[ \t]+/g, " ").replace(/\n\s*\n+/g, "\n").trim() : "";
  const full = document.documentElement;
  return {
    url: location.href, title: document.title, elements,
    text: text.length > args.maxText ? text.slice(0, args.maxText - 1) + "\u2026" : text,
    fullText: text.slice(0, args.maxExtract),
    pixelsAbove: Math.round(window.scrollY),
    pixelsBelow: Math.max(0, Math.round(full.scrollHeight - window.scrollY - vh)),
  };
}
