/*
 * 售后助手网页聊天组件 (after-sales web chat widget). No build step, no framework.
 *
 * Embed on any page (one snippet):
 *   <script src="https://assistant.example.com/chat/widget/widget.js"
 *           data-server="https://assistant.example.com"
 *           data-identity-token="<JWT signed by the shop, optional>" defer></script>
 *
 * Talks to channels/webchat.py over socket.io (client 4.8.1, vendored under /chat/vendor/).
 * Every text from the server is put on the page with textContent, never as HTML.
 */
(function () {
  "use strict";

  var UI = {
    launcher: "售后客服",
    title: "售后助手",
    subtitle: "售后助手随时在线 · 人工客服值班时可转接",
    placeholder: "请描述您遇到的问题…",
    send: "发送",
    upload: "上传照片或视频",
    uploading: "正在上传…",
    close: "收起",
    connecting: "正在连接…",
    reconnecting: "连接已断开，正在重新连接…",
    connected: "",
    agent: "人工客服",
    you: "我",
    typing: "对方正在输入",
    photoSent: "这是照片",
    videoSent: "这是视频",
    uploadFailed: "上传失败，请检查网络后重试。",
    uploadRefused: "上传没有成功（服务器返回 HTTP {status}），请稍后重试。",
    tooLarge: "文件太大了（{size}），照片最大 {image}，视频最大 {video}。请压缩或截取后重新上传。",
    notConnected: "还没有连上服务器，请稍候再发送。",
    sendFailed: "消息没有发出去，请稍后重试。",
    chatErrors: { session_invalid: "会话已失效，请刷新页面后重试。" },
  };
  var STORAGE_SESSION_PREFIX = "aftersales.chat.session_id";
  var STORAGE_OPEN = "aftersales.chat.open";
  var TYPING_TIMEOUT_MS = 15000;

  var script = document.currentScript || document.querySelector("script[data-aftersales-widget]");
  var config = {
    server: ((script && script.getAttribute("data-server")) || (script ? new URL(script.src).origin : location.origin)).replace(/\/$/, ""),
    identityToken: (script && script.getAttribute("data-identity-token")) || null,
  };

  // one stored conversation per signed-in customer, so that a shared browser does not show one
  // customer's chat to the next; the token is only read here to pick the key, the server verifies it
  var STORAGE_SESSION = STORAGE_SESSION_PREFIX + (config.identityToken ? "." + tokenSubject(config.identityToken) : "");

  function tokenSubject(token) {
    try {
      var payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return String(JSON.parse(atob(payload)).sub || "");
    } catch (error) {
      return "";
    }
  }

  var state = { socket: null, sessionId: null, historyLoaded: false, typingTimer: null, limits: null };
  var el = {};

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      if (window.io) return resolve();
      var tag = document.createElement("script");
      tag.src = src;
      tag.onload = resolve;
      tag.onerror = function () { reject(new Error("socket.io client failed to load")); };
      document.head.appendChild(tag);
    });
  }

  function loadStyles() {
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = config.server + "/chat/widget/widget.css";
    document.head.appendChild(link);
  }

  // ---- layout ------------------------------------------------------------------------------

  function build() {
    el.root = make("div", "asw-root");
    el.root.setAttribute("data-testid", "chat-widget");
    el.launcher = make("button", "asw-launcher", UI.launcher);
    el.launcher.type = "button";
    el.launcher.setAttribute("data-testid", "chat-open");
    el.panel = make("section", "asw-panel");
    el.panel.setAttribute("aria-label", UI.title);

    var header = make("header", "asw-header");
    var titles = make("div", "asw-titles");
    titles.appendChild(make("strong", "asw-title", UI.title));
    titles.appendChild(make("span", "asw-subtitle", UI.subtitle));
    var close = make("button", "asw-close", "×");
    close.type = "button";
    close.title = UI.close;
    header.appendChild(titles);
    header.appendChild(close);

    el.status = make("div", "asw-status", UI.connecting);
    el.status.setAttribute("data-testid", "chat-status");
    el.messages = make("div", "asw-messages");
    el.messages.setAttribute("data-testid", "chat-messages");
    el.messages.setAttribute("aria-live", "polite");
    el.typing = make("div", "asw-typing");
    el.typing.setAttribute("data-testid", "chat-typing");
    el.typing.appendChild(make("span", "asw-typing-label", UI.typing));
    el.typing.appendChild(make("span", "asw-dots", "···"));

    var form = make("form", "asw-form");
    el.file = make("input");
    el.file.type = "file";
    el.file.accept = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif,video/mp4,video/quicktime,.mov";
    el.file.hidden = true;
    el.file.setAttribute("data-testid", "chat-file");
    el.attach = make("button", "asw-attach");
    el.attach.appendChild(cameraIcon());
    el.attach.type = "button";
    el.attach.title = UI.upload;
    el.attach.setAttribute("aria-label", UI.upload);
    el.input = make("input", "asw-input");
    el.input.type = "text";
    el.input.placeholder = UI.placeholder;
    el.input.maxLength = 2000;
    el.input.setAttribute("data-testid", "chat-input");
    el.send = make("button", "asw-send", UI.send);
    el.send.type = "submit";
    el.send.setAttribute("data-testid", "chat-send");
    form.appendChild(el.file);
    form.appendChild(el.attach);
    form.appendChild(el.input);
    form.appendChild(el.send);

    el.panel.appendChild(header);
    el.panel.appendChild(el.status);
    el.panel.appendChild(el.messages);
    el.panel.appendChild(el.typing);
    el.panel.appendChild(form);
    el.root.appendChild(el.panel);
    el.root.appendChild(el.launcher);
    document.body.appendChild(el.root);

    el.launcher.addEventListener("click", function () { setOpen(true); });
    close.addEventListener("click", function () { setOpen(false); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = el.input.value.trim();
      if (!text) return;
      if (sendText(text, text)) el.input.value = "";
    });
    el.attach.addEventListener("click", function () { el.file.click(); });
    el.file.addEventListener("change", function () {
      if (el.file.files && el.file.files[0]) upload(el.file.files[0]);
      el.file.value = "";
    });
    setOpen(localStorage.getItem(STORAGE_OPEN) === "1");
  }

  function cameraIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var icon = document.createElementNS(ns, "svg");
    icon.setAttribute("viewBox", "0 0 24 24");
    icon.setAttribute("width", "20");
    icon.setAttribute("height", "20");
    icon.setAttribute("aria-hidden", "true");
    [["path", { d: "M4 7h3l2-3h6l2 3h3a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V8a1 1 0 0 1 1-1z" }],
     ["circle", { cx: "12", cy: "13", r: "4" }]].forEach(function (shape) {
      var node = document.createElementNS(ns, shape[0]);
      Object.keys(shape[1]).forEach(function (key) { node.setAttribute(key, shape[1][key]); });
      node.setAttribute("fill", "none");
      node.setAttribute("stroke", "#4e5969");
      node.setAttribute("stroke-width", "1.8");
      icon.appendChild(node);
    });
    return icon;
  }

  function setOpen(open) {
    el.root.classList.toggle("asw-open", open);
    localStorage.setItem(STORAGE_OPEN, open ? "1" : "0");
    if (open) {
      el.input.focus();
      scrollDown();
    }
  }

  function setStatus(text) {
    el.status.textContent = text;
    el.status.style.display = text ? "block" : "none";
  }

  function scrollDown() {
    el.messages.scrollTop = el.messages.scrollHeight;
  }

  function showTyping(on) {
    clearTimeout(state.typingTimer);
    el.typing.classList.toggle("asw-visible", on);
    if (on) state.typingTimer = setTimeout(function () { showTyping(false); }, TYPING_TIMEOUT_MS);
  }

  // ---- messages ----------------------------------------------------------------------------

  function bubble(from, label) {
    var row = make("div", "asw-row asw-from-" + from);
    if (label) row.appendChild(make("div", "asw-label", label));
    var body = make("div", "asw-bubble");
    row.appendChild(body);
    el.messages.appendChild(row);
    return body;
  }

  function addText(from, text, label) {
    var body = bubble(from, label);
    body.textContent = text;
    body.setAttribute("data-testid", "chat-" + from + "-message");
    scrollDown();
    return body;
  }

  function addImage(from, src, label) {
    var body = bubble(from, label);
    var img = make("img", "asw-image");
    img.alt = UI.photoSent;
    img.src = src;
    img.addEventListener("load", scrollDown);
    body.appendChild(img);
    body.setAttribute("data-testid", "chat-" + from + "-image");
    scrollDown();
  }

  function addVideo(from, src) {
    var body = bubble(from);
    var video = make("video", "asw-image");
    video.src = src;
    video.controls = true;
    body.appendChild(video);
    scrollDown();
  }

  // the conversation moved on: earlier choices are no longer offered
  function retireButtons() {
    el.messages.querySelectorAll(".asw-buttons button:not(:disabled)").forEach(function (b) { b.disabled = true; });
  }

  function addButtons(buttons) {
    if (!buttons || !buttons.length) return;
    var row = make("div", "asw-buttons");
    row.setAttribute("data-testid", "chat-buttons");
    buttons.forEach(function (button) {
      var node = make("button", "asw-button", button.title);
      node.type = "button";
      node.addEventListener("click", function () {
        if (sendText(button.payload, button.title)) {
          row.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
          node.classList.add("asw-chosen");
        }
      });
      row.appendChild(node);
    });
    el.messages.appendChild(row);
    scrollDown();
  }

  function evidenceSource(url) {
    return config.server + url + "?session_id=" + encodeURIComponent(state.sessionId || "");
  }

  function renderBotMessage(message) {
    var fromAgent = !!message.from_agent;
    if (message.text || message.quick_replies || message.buttons) retireButtons();
    if (message.text) addText(fromAgent ? "agent" : "bot", message.text, fromAgent ? UI.agent : null);
    if (message.quick_replies) addButtons(message.quick_replies);
    if (message.buttons) addButtons(message.buttons);
    if (message.attachment && message.attachment.type === "image" && message.attachment.payload) {
      addImage("bot", message.attachment.payload.src);
    }
    if (message.image) addImage("bot", message.image);
    // an image an agent sent: served by /evidence/ to this chat's session only
    (message.attachments || []).forEach(function (a) {
      if (a.type === "image" && /^\/evidence\/[0-9a-f]{64}\.[a-z0-9]{2,5}$/.test(a.url || "")) {
        addImage(fromAgent ? "agent" : "bot", evidenceSource(a.url), fromAgent ? UI.agent : null);
      }
    });
  }

  function renderHistoryLine(line) {
    if (line.from === "buyer") {
      (line.attachments || []).forEach(function (a) {
        if (a.type === "video") addVideo("user", evidenceSource(a.url));
        else addImage("user", evidenceSource(a.url));
      });
      var isUpload = (line.attachments || []).length && (line.text === UI.photoSent || line.text === UI.videoSent);
      if (line.text && !isUpload) addText("user", line.text);
    } else {
      renderBotMessage({ text: line.text, buttons: null, image: line.image, from_agent: line.from_agent,
                         attachments: line.attachments });
    }
  }

  function loadHistory() {
    if (state.historyLoaded || !state.sessionId) return Promise.resolve();
    state.historyLoaded = true;
    return fetch(config.server + "/webhooks/webchat/history?session_id=" + encodeURIComponent(state.sessionId))
      .then(function (r) { return r.ok ? r.json() : { messages: [] }; })
      .then(function (data) {
        el.messages.textContent = "";
        if (!data.messages.length) return showGreeting();
        data.messages.forEach(renderHistoryLine);
        // buttons are only offered again for the very last bot message
        var last = data.messages[data.messages.length - 1];
        if (last && last.from === "bot" && last.buttons && last.buttons.length) addButtons(last.buttons);
        scrollDown();
      })
      .catch(function () { state.historyLoaded = false; });
  }

  // a new chat opens with the shop's greeting and quick buttons (domain.yml utter_widget_greeting);
  // shown here only, so a buyer who just looks does not start a conversation
  function showGreeting() {
    return fetch(config.server + "/webhooks/webchat/greeting")
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (greeting) {
        if (!greeting || el.messages.childNodes.length) return;
        var body = addText("bot", greeting.text);
        body.setAttribute("data-greeting", "true");
        addButtons(greeting.buttons);
      })
      .catch(function () {});
  }

  // ---- sending -----------------------------------------------------------------------------

  function emit(text, metadata) {
    if (!state.socket || !state.socket.connected || !state.sessionId) {
      addText("system", UI.notConnected);
      return false;
    }
    state.socket.emit("user_uttered", { message: text, session_id: state.sessionId, metadata: metadata || {} });
    showTyping(true);
    return true;
  }

  function sendText(text, shown) {
    var metadata = shown !== text ? { shown_text: shown } : {};
    if (!emit(text, metadata)) return false;
    retireButtons();
    addText("user", shown);
    return true;
  }

  function megabytes(size) {
    var value = size / (1024 * 1024);
    return (value >= 10 || value === Math.floor(value) ? value.toFixed(0) : value.toFixed(1)) + " MB";
  }

  function tooLargeText(size) {
    var limits = state.limits || {};
    return UI.tooLarge.replace("{size}", size ? megabytes(size) : "—")
      .replace("{image}", limits.max_image_bytes ? megabytes(limits.max_image_bytes) : "—")
      .replace("{video}", limits.max_video_bytes ? megabytes(limits.max_video_bytes) : "—");
  }

  // checked here so that a buyer does not wait for a long upload the server would refuse;
  // a file of unknown type (some phones send HEIC without one) gets the larger limit
  function overLimit(file) {
    var limits = state.limits;
    if (!limits) return false;
    var isVideo = /^video\//.test(file.type || "");
    var isImage = /^image\//.test(file.type || "");
    var limit = isVideo ? limits.max_video_bytes : isImage ? limits.max_image_bytes
      : Math.max(limits.max_image_bytes, limits.max_video_bytes);
    return file.size > limit;
  }

  function loadLimits() {
    fetch(config.server + "/webhooks/webchat/limits")
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (limits) { state.limits = limits; })
      .catch(function () {});
  }

  function upload(file) {
    if (overLimit(file)) {
      addText("system", tooLargeText(file.size));
      return;
    }
    var form = new FormData();
    form.append("file", file, file.name);
    form.append("session_id", state.sessionId || "");  // the file may only be sent in this chat
    var note = addText("system", UI.uploading);
    fetch(config.server + "/webhooks/webchat/upload", { method: "POST", body: form })
      .then(function (r) {
        // a proxy in front of the server may answer with an HTML page instead of JSON
        return r.json().catch(function () { return {}; }).then(function (data) { return { ok: r.ok, status: r.status, data: data }; });
      })
      .then(function (result) {
        note.parentNode.remove();
        var attachment = result.data.attachment;
        if (!result.ok || !attachment) {
          var fallback = result.status === 413 ? tooLargeText(file.size) : UI.uploadRefused.replace("{status}", result.status);
          addText("system", result.data.error || fallback);
          return;
        }
        // sent as a plain intent with the buyer-facing words as shown_text: the files speak,
        // not the NLU's reading of a caption
        var shown = attachment.type === "video" ? UI.videoSent : UI.photoSent;
        if (emit("/inform", { attachments: [attachment], shown_text: shown })) {
          if (attachment.type === "video") addVideo("user", URL.createObjectURL(file));
          else addImage("user", URL.createObjectURL(file));
        }
      })
      .catch(function () {
        note.parentNode.remove();
        addText("system", UI.uploadFailed);
      });
  }

  // ---- connection --------------------------------------------------------------------------

  function connect() {
    var socket = window.io(config.server, {
      path: "/socket.io",
      transports: ["websocket", "polling"],
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      auth: config.identityToken ? { identity: config.identityToken } : {},
    });
    state.socket = socket;
    socket.on("connect", function () {
      socket.emit("session_request", { session_id: localStorage.getItem(STORAGE_SESSION) });
    });
    socket.on("session_confirm", function (sessionId) {
      state.sessionId = sessionId;
      localStorage.setItem(STORAGE_SESSION, sessionId);
      setStatus(UI.connected);
      el.root.setAttribute("data-session-id", sessionId);
      loadHistory();
    });
    socket.on("bot_uttered", function (message) {
      showTyping(false);
      renderBotMessage(message || {});
    });
    socket.on("bot_idle", function () { showTyping(false); });
    socket.on("chat_error", function (data) {
      showTyping(false);
      addText("system", UI.chatErrors[data && data.code] || UI.sendFailed);
    });
    socket.on("disconnect", function () {
      setStatus(UI.reconnecting);
      // until the server confirms the session again, messages are refused here instead of
      // being shown as sent and then dropped by the server
      state.sessionId = null;
      state.historyLoaded = false;  // reload on reconnect: replies sent meanwhile appear too
    });
    socket.io.on("reconnect_attempt", function () { setStatus(UI.reconnecting); });
  }

  function start() {
    loadStyles();
    build();
    setStatus(UI.connecting);
    loadLimits();
    loadScript(config.server + "/chat/vendor/socket.io-client-4.8.1/socket.io.min.js")
      .then(connect)
      .catch(function () { setStatus(UI.reconnecting); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
