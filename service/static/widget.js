/* Flywheel in-product survey widget: dependency-free, rendered in a Shadow DOM, CSP-friendly.
 * Embed: <script src="https://HOST/widget.js" data-key="fw_pk_..." async></script>
 * API: flywheel('identify', {...}) | flywheel('show') | flywheel('feedback') | flywheel('reset')
 */
(() => {
  "use strict";
  const w = window, d = document;
  const me = d.currentScript || d.querySelector("script[data-key][src*='widget.js']");
  if (!me || w.flywheel && w.flywheel.loaded) return;
  const KEY = me.dataset.key || "";
  const BASE = new URL(me.src).origin + "/w/v1/";
  const LS = "flywheel:" + KEY.slice(-8) + ":";
  const DAY = 864e5;
  const TEXT = {
    en: ["Not likely", "Very likely", "Send", "Close", "Thank you!",
      "What's on your mind?", "Category", "Idea", "Problem", "Other", "Quick question"],
    ru: ["Маловероятно", "Очень вероятно", "Отправить", "Закрыть", "Спасибо!",
      "Что вы хотите сказать?", "Тема", "Идея", "Проблема", "Другое", "Короткий вопрос"],
    zh: ["不太可能", "非常可能", "发送", "关闭", "谢谢！",
      "您想告诉我们什么？", "类别", "建议", "问题", "其他", "简短提问"],
  };
  const CATEGORIES = ["idea", "problem", "other"];
  const CSS = `
:host{all:initial!important;position:fixed!important;right:16px!important;bottom:16px!important;
z-index:2147483647!important;display:block!important}
.card{--bg:#fff;--fg:#1b1d21;--mu:#555b64;--bd:#d5d8dd;--ac:#2150c8;--on:#fff;--ch:#eef1f5;
box-sizing:border-box;width:384px;max-width:calc(100vw - 32px);padding:20px;position:relative;
background:var(--bg);color:var(--fg);border:1px solid var(--bd);border-radius:12px;
box-shadow:0 8px 30px #0003;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.in{animation:in .2s ease-out}
@keyframes in{from{opacity:0;transform:translateY(12px)}}
*{box-sizing:border-box;font:inherit;color:inherit}
p,label.q{display:block;margin:0 28px 12px 0;font-weight:600}
.scale{display:grid;grid-template-columns:repeat(11,1fr);gap:3px}
.scale label{position:relative;display:block}
.scale input{position:absolute;opacity:0;width:1px;height:1px;margin:0}
.scale span{display:block;min-height:34px;line-height:34px;text-align:center;border-radius:6px;
background:var(--ch);cursor:pointer;border:1px solid var(--bd)}
.scale input:checked+span{background:var(--ac);color:var(--on);border-color:var(--ac)}
.scale input:focus-visible+span,:focus-visible{outline:2px solid var(--ac);outline-offset:2px}
.ends{display:flex;justify-content:space-between;color:var(--mu);font-size:13px;margin:6px 0 12px}
textarea,select{display:block;width:100%;margin:0 0 12px;padding:8px;border-radius:6px;
border:1px solid var(--mu);background:var(--bg)}
textarea{min-height:80px;resize:vertical}
button{cursor:pointer;border:0;border-radius:6px}
.send{background:var(--ac);color:var(--on);padding:8px 16px;font-weight:600}
.x{position:absolute;top:10px;right:10px;width:32px;height:32px;background:none;font-size:20px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:480px){:host{left:0!important;right:0!important;bottom:0!important}
.card{width:100%;max-width:none;border-radius:12px 12px 0 0}}
@media (prefers-color-scheme:dark){.card{--bg:#1f2227;--fg:#eceef1;--mu:#aeb4bd;--bd:#41464f;
--ac:#8db0ff;--on:#10131a;--ch:#2b2f36}}
@media (prefers-reduced-motion:reduce){.in{animation:none}}`;

  const store = (name, value) => {
    try {
      if (value === undefined) return localStorage.getItem(LS + name);
      if (value === null) localStorage.removeItem(LS + name);
      else localStorage.setItem(LS + name, value);
    } catch (e) { /* storage blocked: the widget still works for this page view */ }
  };
  const randomId = () =>
    Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0"))
      .join("");
  let anon = store("anon");
  if (!anon) store("anon", (anon = randomId()));
  let person = {}, started = false, host, root, live, card, state = null, returnTo = null;

  const who = () => person.external_id || anon;
  const identity = () => Object.assign({}, person, { anonymous_id: anon });
  const lang = (tag) => (/^(ru|zh)/i.exec(tag || "") || ["en"])[0].toLowerCase();
  const post = (path, body) =>
    fetch(BASE + path + "?key=" + encodeURIComponent(KEY), {
      method: "POST",
      // text/plain keeps these simple CORS requests: no preflight round trip.
      headers: { "Content-Type": "text/plain" },
      body: JSON.stringify(body),
      credentials: "omit",
      keepalive: true,
    }).then((r) => (r.ok ? r.json() : Promise.reject(r.status)));
  // "Not eligible until", per person: someone who is not due costs one call a day at most.
  const snooze = (ms) => store("until", JSON.stringify({ who: who(), at: Date.now() + ms }));
  const snoozed = () => {
    try {
      const s = JSON.parse(store("until") || "null");
      return s && s.who === who() && s.at > Date.now();
    } catch (e) { return false; }
  };

  const h = (tag, attrs, ...children) => {
    const el = d.createElement(tag);
    for (const k in attrs || {}) {
      if (k.startsWith("on")) el.addEventListener(k.slice(2), attrs[k]);
      else el.setAttribute(k, attrs[k]);
    }
    el.append(...children);
    return el;
  };

  function mount() {
    if (host) return;
    host = h("flywheel-widget");
    root = host.attachShadow({ mode: "open" });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
    live = h("div", { class: "sr", role: "status" });
    root.append(live);
    root.addEventListener("keydown", (e) => {
      if (e.key === "Escape") close();
      if (e.key === "Enter" && e.target.type === "radio") {
        e.preventDefault();
        sendScore();
      }
    });
    d.body.append(host);
  }

  function render(t, body, focus) {
    mount();
    const inside = root.activeElement || focus;
    // Only the card's arrival is animated, not each step that replaces its content.
    const arriving = !card;
    if (card) card.remove();
    card = h("div", { class: arriving ? "card in" : "card", role: "dialog", "aria-labelledby": "q" },
      ...body, h("button", { class: "x", type: "button", "aria-label": t[3], onclick: close }, "×"));
    root.append(card);
    if (inside) {
      const first = card.querySelector("textarea,input,button");
      if (first) first.focus();
    }
  }

  function ask(answer) {
    const t = TEXT[answer.locale] || TEXT.en;
    state = { token: answer.display_token, t, step: "score" };
    const scale = h("div", { class: "scale", role: "radiogroup", "aria-labelledby": "q" });
    for (let i = 0; i <= 10; i++) {
      const name = i === 0 ? `0, ${t[0]}` : i === 10 ? `10, ${t[1]}` : String(i);
      const input = h("input", { type: "radio", name: "score", value: i, "aria-label": name });
      scale.append(h("label", {}, input, h("span", { "aria-hidden": "true" }, String(i))));
    }
    // A pointer click answers at once; keyboard users choose with arrows, then Enter.
    let pointer = false;
    scale.addEventListener("pointerdown", () => (pointer = true));
    scale.addEventListener("keydown", () => (pointer = false));
    scale.addEventListener("change", () => pointer && sendScore());
    render(t, [h("form", { onsubmit: (e) => { e.preventDefault(); sendScore(); } },
      h("p", { id: "q" }, answer.survey.question), scale,
      h("div", { class: "ends", "aria-hidden": "true" }, h("span", {}, t[0]), h("span", {}, t[1])),
      h("button", { class: "send", type: "submit" }, t[2]))]);
    live.textContent = "";
    setTimeout(() => { live.textContent = t[10] + ": " + answer.survey.question; }, 100);
  }

  function sendScore() {
    const picked = card && card.querySelector("input:checked");
    if (!picked || !state || state.step !== "score") return;
    state.step = "sending";
    snooze(DAY);
    post("responses", { display_token: state.token, score: +picked.value }).then((r) => {
      state.step = "comment";
      const t = state.t;
      render(t, [h("form", { onsubmit: sendComment },
        h("label", { id: "q", class: "q", for: "c" }, r.followup),
        h("textarea", { id: "c", maxlength: "5000" }),
        h("button", { class: "send", type: "submit" }, t[2]))]);
    }, () => close());
  }

  function sendComment(e) {
    e.preventDefault();
    const text = card.querySelector("textarea").value.trim();
    if (!text) return thank();
    const body = state.token
      ? ["responses", { display_token: state.token, comment: text }]
      : ["feedback", Object.assign(identity(), {
        comment: text,
        category: card.querySelector("select").value,
        page_url: location.origin + location.pathname,
      })];
    post(...body).then(thank, thank);
  }

  function thank() {
    state = { step: "done", t: state.t };
    render(state.t, [h("p", { id: "q", role: "status", tabindex: "-1" }, state.t[4])]);
    const shown = card;
    setTimeout(() => card === shown && close(), 2500);
  }

  function close() {
    if (!card) return;
    if (state && state.step === "score" && state.token) {
      post("dismissals", { display_token: state.token }).catch(() => {});
      snooze(DAY);
    }
    const hadFocus = !!root.activeElement;
    card.remove();
    card = state = null;
    if (hadFocus && returnTo && returnTo.focus) returnTo.focus();
    returnTo = null;
  }

  function visit(force, surveyId) {
    if (card || (!force && snoozed())) return;
    const body = Object.assign(identity(), {
      browser_locale: navigator.language, force: !!force, survey_id: surveyId,
    });
    post("visits", body).then((r) => {
      if (r.show) {
        if (force) returnTo = d.activeElement;
        ask(r);
        if (force) card.querySelector("input").focus();
      } else snooze(r.retry_after * 1000);
    }, () => {});
  }

  function feedback() {
    const t = TEXT[lang(person.locale || navigator.language)];
    returnTo = d.activeElement;
    state = { t, step: "comment" };
    const select = h("select", { "aria-label": t[6] },
      ...CATEGORIES.map((c, i) => h("option", { value: c }, t[7 + i])));
    render(t, [h("form", { onsubmit: sendComment },
      h("label", { id: "q", class: "q", for: "c" }, t[5]), select,
      h("textarea", { id: "c", maxlength: "5000", required: "" }),
      h("button", { class: "send", type: "submit" }, t[2]))], true);
    card.querySelector("textarea").focus();
  }

  const commands = {
    identify(data) {
      const before = who();
      person = Object.assign({}, data);
      if (started && who() !== before) visit();
    },
    show: (opts) => visit(true, opts && opts.survey_id),
    feedback,
    reset() {
      close();
      person = {};
      store("until", null);
      store("anon", (anon = randomId()));
    },
  };
  const queued = (w.flywheel && w.flywheel.q) || [];
  const flywheel = (name, arg) => {
    try {
      if (!d.body) return void d.addEventListener("DOMContentLoaded", () => flywheel(name, arg));
      if (commands[name]) commands[name](arg);
    } catch (e) { /* never break the host page */ }
  };
  flywheel.loaded = true;
  w.flywheel = flywheel;
  const start = () => {
    for (const args of queued) flywheel(args[0], args[1]);
    started = true;
    if (me.dataset.auto !== "false") visit();
  };
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", start);
  else start();
})();
