/*
 * 售后人工客服控制台 (agent console). Talks to channels/console.py's JSON API.
 * Everything from the server is put on the page with textContent or as attributes of
 * elements built here, never parsed as HTML: a buyer's "<script>" is shown as text.
 */
(function () {
  "use strict";

  var QUEUE_POLL_MS = 3000;
  var CONVERSATION_POLL_MS = 1500;
  var TICKET_LIST_POLL_MS = 10000;
  var TICKET_PAGE_POLL_MS = 3000;
  // with the live socket up, changes are pushed (channels/console_live.py); polling is only a safety net
  var LIVE_FALLBACK_MS = 30000;
  var state = { me: null, view: "waiting", page: "desk", open: null, lines: 0, timers: [], timezone: undefined,
                ticket: null, ticketLines: 0, choicesShown: false, socket: null, live: false, liveUpdates: 0,
                seenWaiting: null, newChatAlerts: 0, audio: null };

  function $(id) { return document.getElementById(id); }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function api(method, path, body) {
    var options = { method: method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch("/console/api" + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.status === 401 && path !== "/login") showLogin();
        if (!response.ok) {
          var error = new Error(data.error || "请求失败（HTTP " + response.status + "），请稍后重试。");
          error.status = response.status;
          error.data = data;
          throw error;
        }
        return data;
      });
    });
  }

  function flash(message, bad) {
    var box = $("flash");
    box.textContent = message;
    box.className = "flash" + (bad ? " bad" : "");
    box.hidden = !message;
    clearTimeout(flash.timer);
    if (message) flash.timer = setTimeout(function () { box.hidden = true; }, 6000);
  }

  function when(iso) {
    if (!iso) return "—";
    var date = new Date(iso);
    // the shop's time zone (AFTERSALES_TIMEZONE), the one the buyer was told deadlines in
    return date.toLocaleString("zh-CN", { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit",
                                          hour12: false, timeZone: state.timezone });
  }

  function duration(seconds) {
    if (seconds < 60) return seconds + " 秒";
    if (seconds < 3600) return Math.floor(seconds / 60) + " 分钟";
    return Math.floor(seconds / 3600) + " 小时 " + Math.floor((seconds % 3600) / 60) + " 分";
  }

  function definitionList(pairs) {
    var list = make("dl", "kv");
    pairs.forEach(function (pair) {
      if (pair[1] === null || pair[1] === undefined || pair[1] === "") return;
      list.appendChild(make("dt", null, pair[0]));
      list.appendChild(make("dd", null, pair[1]));
    });
    return list;
  }

  function every(ms, work, notNow) {
    if (!notNow) work();
    var last = Date.now();
    state.timers.push(setInterval(function () {
      if (state.live && Date.now() - last < LIVE_FALLBACK_MS) return;
      last = Date.now();
      work();
    }, ms));
  }

  // ---- live updates and new-chat alerts -------------------------------------------------------

  function connectLive() {
    if (!window.io || state.socket) return;
    var socket = window.io(location.origin, { path: "/socket.io", auth: { console: true }, withCredentials: true });
    state.socket = socket;
    socket.on("connect", function () { state.live = true; $("app-view").setAttribute("data-live", "true"); });
    socket.on("disconnect", function () { state.live = false; $("app-view").setAttribute("data-live", "false"); });
    socket.on("console_update", function (update) {
      state.liveUpdates += 1;
      $("app-view").setAttribute("data-live-updates", String(state.liveUpdates));
      loadQueue();
      if (!update.conversation_id || update.conversation_id === state.open) refreshConversation();
      if (state.page === "tickets") { loadTickets(); refreshTicketPage(); }
    });
  }

  function disconnectLive() {
    if (state.socket) state.socket.disconnect();
    state.socket = null;
    state.live = false;
  }

  function prepareAlerts() {
    // called from the login click: browsers allow sound and the permission prompt only after a gesture
    try { state.audio = state.audio || new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { state.audio = null; }
    if (window.Notification && Notification.permission === "default") Notification.requestPermission();
  }

  function alertNewChats(items) {
    state.newChatAlerts += items.length;
    $("app-view").setAttribute("data-new-chat-alerts", String(state.newChatAlerts));
    document.title = "（" + items.length + " 个新会话）售后人工客服控制台";
    if (state.audio) {
      var tone = state.audio.createOscillator();
      var gain = state.audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.1;
      tone.connect(gain).connect(state.audio.destination);
      tone.start();
      tone.stop(state.audio.currentTime + 0.25);
    }
    if (window.Notification && Notification.permission === "granted") {
      var first = items[0];
      new Notification("新的转人工会话", { body: first.reason_label + " · " + first.channel_label, tag: "aftersales-new-chat" });
    }
  }

  function noticeNewChats(handoffs) {
    var waiting = handoffs.filter(function (item) { return item.status === "waiting"; });
    var fresh = state.seenWaiting === null ? [] : waiting.filter(function (item) { return !state.seenWaiting[item.id]; });
    state.seenWaiting = state.seenWaiting || {};
    waiting.forEach(function (item) { state.seenWaiting[item.id] = true; });
    if (fresh.length) alertNewChats(fresh);
  }

  // ---- login -------------------------------------------------------------------------------

  function showLogin() {
    disconnectLive();
    state.timers.forEach(clearInterval);
    state.timers = [];
    state.me = null;
    $("app-view").hidden = true;
    $("login-view").hidden = false;
  }

  function showApp(me, timezone, maxImageBytes) {
    state.me = me;
    state.maxImageBytes = maxImageBytes || 0;
    state.timezone = timezone || undefined;
    $("login-view").hidden = true;
    $("app-view").hidden = false;
    $("who").textContent = me.display_name + "（" + me.role_label + "）";
    connectLive();
    every(QUEUE_POLL_MS, loadQueue);
    every(CONVERSATION_POLL_MS, refreshConversation);
    loadCanned();
    every(TICKET_LIST_POLL_MS, loadTickets, true);
    every(TICKET_PAGE_POLL_MS, refreshTicketPage, true);
  }

  $("login-form").addEventListener("submit", function (event) {
    event.preventDefault();
    prepareAlerts();
    $("login-error").textContent = "";
    api("POST", "/login", { username: $("login-username").value, password: $("login-password").value })
      .then(function () { return api("GET", "/me"); })
      .then(function (data) { $("login-password").value = ""; showApp(data.agent, data.timezone, data.max_image_bytes); })
      .catch(function (error) { $("login-error").textContent = error.message; });
  });

  $("logout").addEventListener("click", function () {
    api("POST", "/logout", {}).finally(showLogin);
  });

  // ---- pages -------------------------------------------------------------------------------

  document.querySelectorAll(".tab").forEach(function (tab) {
    tab.addEventListener("click", function () {
      state.page = tab.getAttribute("data-page");
      document.querySelectorAll(".tab").forEach(function (t) { t.classList.toggle("active", t === tab); });
      $("desk-page").hidden = state.page !== "desk";
      $("dashboard-page").hidden = state.page !== "dashboard";
      $("tickets-page").hidden = state.page !== "tickets";
      if (state.page === "dashboard") loadDashboard();
      if (state.page === "tickets") loadTickets();
    });
  });

  // ---- queue -------------------------------------------------------------------------------

  document.querySelectorAll(".view").forEach(function (button) {
    button.addEventListener("click", function () {
      state.view = button.getAttribute("data-view");
      document.querySelectorAll(".view").forEach(function (b) { b.classList.toggle("active", b === button); });
      loadQueue();
    });
  });

  function loadQueue() {
    if (!state.me) return;
    api("GET", "/queue?view=" + state.view).then(function (data) {
      var list = $("queue-list");
      list.textContent = "";
      if (state.view !== "mine") noticeNewChats(data.handoffs);
      if (!data.handoffs.length) list.appendChild(make("li", "queue-item muted", "队列是空的。"));
      data.handoffs.forEach(function (item) { list.appendChild(queueItem(item)); });
    }).catch(function () {});
  }

  function queueItem(item) {
    var row = make("li", "queue-item" + (state.open === item.conversation_id ? " selected" : ""));
    row.setAttribute("data-conversation", item.conversation_id);
    var first = make("div", "line");
    var title = make("span");
    title.appendChild(make("span", "badge " + item.priority, item.priority_label));
    title.appendChild(document.createTextNode(" " + item.reason_label));
    first.appendChild(title);
    first.appendChild(make("span", "muted", item.status_label));
    row.appendChild(first);
    var meta = make("div", "meta");
    meta.appendChild(make("div", null, "渠道：" + item.channel_label + (item.ticket_number ? " · 工单 " + item.ticket_number : "")));
    meta.appendChild(make("div", null, (item.status === "waiting" ? "已等待 " : "等待了 ") + duration(item.waiting_seconds)));
    var sla = make("div", null, "SLA 截止：" + when(item.sla_deadline) + " ");
    if (item.sla_breached) sla.appendChild(make("span", "badge late", "已超时"));
    meta.appendChild(sla);
    if (item.agent) meta.appendChild(make("div", null, "接手人：" + item.agent));
    row.appendChild(meta);
    if (item.status === "waiting") {
      var claim = make("button", "primary", "接手");
      claim.type = "button";
      claim.setAttribute("data-claim", item.id);
      claim.addEventListener("click", function (event) {
        event.stopPropagation();
        api("POST", "/handoffs/" + item.id + "/claim", {})
          .then(function (data) {
            flash(data.buyer_notified ? "已接手会话，已告诉买家客服已接入。" : "已接手会话（买家的渠道收不到“客服已接入”的通知）。");
            openConversation(item.conversation_id);
            loadQueue();
          })
          .catch(function (error) { flash(error.message, true); loadQueue(); });
      });
      row.appendChild(claim);
    }
    row.addEventListener("click", function () { openConversation(item.conversation_id); });
    return row;
  }

  // ---- conversation ------------------------------------------------------------------------

  function openConversation(conversationId) {
    state.open = conversationId;
    state.lines = 0;
    $("transcript").textContent = "";
    $("conversation").hidden = false;
    $("details").hidden = false;
    $("empty-hint").hidden = true;
    document.querySelectorAll(".queue-item").forEach(function (row) {
      row.classList.toggle("selected", row.getAttribute("data-conversation") === conversationId);
    });
    refreshConversation();
  }

  function refreshConversation() {
    var id = state.open;
    if (!state.me || !id || state.page !== "desk") return;
    api("GET", "/conversations/" + encodeURIComponent(id) + "?since=" + state.lines).then(function (data) {
      if (state.open !== id || data.since !== state.lines) return;
      data.lines.forEach(function (line) { $("transcript").appendChild(transcriptLine(line)); });
      if (data.lines.length) $("transcript").scrollTop = $("transcript").scrollHeight;
      state.lines = data.total_lines;
      renderHeader(data);
      renderDetails(data);
    }).catch(function (error) { if (error.status !== 401) flash(error.message, true); });
  }

  // only the server's own evidence route is ever put into href/src: a buyer-given URL such as
  // "javascript:..." must not become a link an agent clicks
  function isEvidenceUrl(url) {
    return typeof url === "string" && /^\/evidence\/[0-9a-f]{64}\.[a-z0-9]{2,5}$/.test(url);
  }

  function evidenceImage(url, name) {
    var img = make("img", "evidence-img");
    img.src = url;
    img.alt = name || "凭证照片";
    return img;
  }

  function evidenceLink(label, url) {
    var link = make("a", null, label);
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener";
    return link;
  }

  function transcriptLine(line) {
    var who = { buyer: "买家", bot: "机器人", agent: "客服 " + (line.agent || ""), system: "" }[line.from];
    var row = make("div", "msg " + line.from);
    row.setAttribute("data-from", line.from);
    if (who) row.appendChild(make("span", "who-said", who + " · " + when(line.at)));
    if (line.text) row.appendChild(make("div", "text", line.text));
    if (line.from !== "buyer" && line.delivered === false) {
      var image = (line.attachments || []).length > 0;
      row.appendChild(make("span", "undelivered", image ? "未送达：买家的渠道收不到这张图片" : "未送达：买家的渠道不能主动推送"));
    }
    (line.attachments || []).forEach(function (attachment) {
      if (!isEvidenceUrl(attachment.url)) return;
      if (attachment.type === "image") {
        var img = evidenceImage(attachment.url, attachment.name);
        img.addEventListener("load", function () { $("transcript").scrollTop = $("transcript").scrollHeight; });
        row.appendChild(img);
      } else {
        row.appendChild(evidenceLink("视频：" + (attachment.name || "凭证视频"), attachment.url));
      }
    });
    if (line.buttons && line.buttons.length) {
      row.appendChild(make("div", "choices", "按钮：" + line.buttons.map(function (b) { return b.title; }).join(" / ")));
    }
    return row;
  }

  function renderHeader(data) {
    var handoff = data.handoff;
    var order = data.verified_order || (data.tickets.length ? data.tickets[data.tickets.length - 1].order : null);
    $("conv-title").textContent = (order ? order.buyer_name + " 的会话" : "会话") + " · " + data.conversation_id.slice(0, 8);
    $("conv-title").title = data.conversation_id;
    var text = (data.paused ? "机器人已暂停" : "机器人接待中") + (data.channel ? " · 渠道 " + data.channel_label : "");
    if (handoff) text += " · " + handoff.status_label + (handoff.agent ? "（" + handoff.agent + "）" : "");
    $("conv-state").textContent = text;
    var mine = handoff && handoff.status === "claimed" && (handoff.agent === state.me.username || state.me.role === "supervisor");
    $("reply-send").disabled = !mine;
    $("reply-image").disabled = !mine;
    $("return-to-bot").disabled = !mine;
    $("resolve").disabled = !mine;
    $("reply-text").placeholder = mine ? "输入回复，Enter 发送，Shift+Enter 换行" : "接手这个会话后才能回复买家。";
  }

  function renderDetails(data) {
    var order = data.verified_order || (data.tickets.length ? data.tickets[data.tickets.length - 1].order : null);
    var orderBox = $("order-box");
    orderBox.textContent = "";
    if (!order) {
      orderBox.appendChild(make("span", "muted", "买家尚未核实订单。"));
    } else {
      orderBox.appendChild(definitionList([
        ["订单号", order.order_number], ["买家", order.buyer_name], ["手机", order.buyer_phone],
        ["客户编号", order.customer_id], ["状态", order.status_label], ["金额", "¥ " + order.total],
        ["签收", when(order.delivered_at)], ["物流", (order.carrier || "") + " " + (order.tracking_number || "")],
        ["商品", order.items.map(function (i) { return i.name + " ×" + i.quantity; }).join("；")],
      ]));
    }
    if (data.customer_id) orderBox.appendChild(make("div", "muted", "已由商城签名认证的客户：" + data.customer_id));

    var box = $("tickets-box");
    var focused = document.activeElement && box.contains(document.activeElement);
    if (!focused) {
      box.textContent = "";
      if (!data.tickets.length) box.appendChild(make("div", "box muted", "这个会话还没有工单。"));
      data.tickets.slice().reverse().forEach(function (ticket) { box.appendChild(ticketCard(ticket)); });
    }

    var notes = $("notes-list");
    notes.textContent = "";
    data.notes.forEach(function (note) {
      var item = make("li");
      item.appendChild(make("div", "muted", note.author + " · " + when(note.created_at)));
      item.appendChild(make("div", null, note.body));
      notes.appendChild(item);
    });
  }

  function ticketCard(ticket) {
    var card = make("div", "ticket");
    card.setAttribute("data-ticket", ticket.ticket_number);
    card.appendChild(make("strong", null, ticket.ticket_number + " · " + ticket.category_label));
    card.appendChild(definitionList([
      ["状态", ticket.status_label], ["优先级", ticket.priority_label],
      ["问题描述", ticket.description], ["政策规则", ticket.rule_id], ["决定", ticket.decision_explanation],
      ["可选方案", ticket.offered_remedies.map(function (r) { return r.label; }).join("、")],
      ["已选方案", ticket.chosen_remedy_label], ["首次响应", when(ticket.first_response_due)],
      ["处理时限", when(ticket.resolution_due)], ["商品", ticket.item && (ticket.item.name || ticket.item.sku)],
    ]));
    ticket.evidence.forEach(function (piece) {
      if (!isEvidenceUrl(piece.url)) return;
      if ((piece.media_type || "").indexOf("video") === 0) {
        card.appendChild(evidenceLink("视频凭证：" + (piece.name || piece.sha256.slice(0, 12)), piece.url));
      } else {
        card.appendChild(evidenceImage(piece.url, piece.name));
      }
    });
    card.appendChild(ticketForm(ticket));
    var audit = make("details");
    audit.appendChild(make("summary", null, "处理记录（" + ticket.events.length + "）"));
    var list = make("ul", "audit");
    ticket.events.forEach(function (event) {
      var change = event.from_label || event.to_label ? "状态：" + (event.from_label || "—") + " → " + (event.to_label || "—") : "";
      var fields = (event.changes || []).join("，");
      list.appendChild(make("li", null, when(event.at) + " " + actorLabel(event.actor) + " " + [change, fields, event.note || ""].filter(Boolean).join(" · ")));
    });
    audit.appendChild(list);
    card.appendChild(audit);
    return card;
  }

  function actorLabel(actor) {
    if (actor === "bot") return "机器人";
    if (actor && actor.indexOf("agent:") === 0) return "客服 " + actor.slice(6);
    return actor || "—";
  }

  function select(options, current, blank) {
    var node = make("select");
    if (blank) node.appendChild(option("", blank));
    options.forEach(function (o) { node.appendChild(option(o.value, o.label)); });
    node.value = current || "";
    return node;
  }

  function option(value, label) {
    var node = make("option", null, label);
    node.value = value;
    return node;
  }

  function ticketForm(ticket) {
    var form = make("form", "ticket-form");
    var status = select(ticket.allowed_statuses, "", "（不变）");
    var remedy = select(ticket.remedy_choices, ticket.chosen_remedy, "（未选择）");
    var priority = select(ticket.priority_choices, ticket.priority);
    var note = make("input");
    note.placeholder = "变更说明（可选）";
    [["状态", status], ["方案", remedy], ["优先级", priority], ["说明", note]].forEach(function (pair) {
      form.appendChild(make("label", null, pair[0]));
      form.appendChild(pair[1]);
    });
    var save = make("button", null, "保存工单");
    save.type = "submit";
    form.appendChild(save);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var changes = { note: note.value };
      if (status.value) changes.status = status.value;
      if (remedy.value && remedy.value !== ticket.chosen_remedy) changes.chosen_remedy = remedy.value;
      if (priority.value !== ticket.priority) changes.priority = priority.value;
      api("POST", "/tickets/" + encodeURIComponent(ticket.ticket_number), changes)
        .then(function (data) {
          var notice = data.notice;
          if (notice && !notice.delivered) flash("工单 " + ticket.ticket_number + " 已更新，但买家没有收到进展通知：" + notice.note, true);
          else flash("工单 " + ticket.ticket_number + " 已更新" + (notice ? "，已通知买家。" : "。"));
          document.activeElement.blur();
          refreshConversation();
          refreshTicketPage(true);
          loadTickets();
        })
        .catch(function (error) { flash(error.message, true); });
    });
    return form;
  }

  $("reply-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = $("reply-text").value.trim();
    if (!text || !state.open) return;
    api("POST", "/conversations/" + encodeURIComponent(state.open) + "/reply", { text: text })
      .then(function () { $("reply-text").value = ""; refreshConversation(); })
      .catch(function (error) { flash(error.message, true); });
  });

  // ---- an image to the buyer: the file itself is the request body (a form cannot post it cross-site)

  function megabytes(size) {
    var value = size / (1024 * 1024);
    return (value >= 10 || value === Math.floor(value) ? value.toFixed(0) : value.toFixed(1)) + " MB";
  }

  function sendImage(file) {
    var conversation = state.open;
    if (!file || !conversation) return;
    if (!/^image\/(jpeg|png|webp)$/.test(file.type || "")) {
      flash("「" + file.name + "」不能发给买家：只能发送 JPG、PNG 或 WebP 格式的图片。", true);
      return;
    }
    if (state.maxImageBytes && file.size > state.maxImageBytes) {
      flash("「" + file.name + "」太大了（" + megabytes(file.size) + "），图片最大 " + megabytes(state.maxImageBytes) + "。请压缩后重新发送。", true);
      return;
    }
    $("reply-image").disabled = true;
    fetch("/console/api/conversations/" + encodeURIComponent(conversation) + "/image", {
      method: "POST", credentials: "same-origin", body: file,
      headers: { "Content-Type": file.type, "X-File-Name": encodeURIComponent(file.name) },
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.status === 401) showLogin();
        if (!response.ok) throw new Error(data.error || "图片没有发出（HTTP " + response.status + "），请稍后重试。");
        flash(data.delivered ? "图片已发送给买家。" : data.note, !data.delivered);
      });
    }).catch(function (error) {
      flash(error.message, true);
    }).finally(function () {
      $("reply-image").disabled = false;
      refreshConversation();
    });
  }

  $("reply-image").addEventListener("click", function () { $("reply-image-file").click(); });
  $("reply-image-file").addEventListener("change", function () {
    var file = $("reply-image-file").files[0];
    $("reply-image-file").value = "";
    sendImage(file);
  });

  $("reply-text").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("reply-form").requestSubmit();
    }
  });

  function handBack(path, body, done) {
    if (!state.open) return;
    $("pending-box").hidden = true;
    api("POST", "/conversations/" + encodeURIComponent(state.open) + path, body || {})
      .then(function (data) {
        if (data.buyer_notified === false) flash(data.note, true);
        else flash(typeof done === "function" ? done(data) : done);
        refreshConversation();
        loadQueue();
      })
      .catch(function (error) {
        if (error.status === 409 && error.data && error.data.pending) return showPending(error.data.pending);
        flash(error.message, true);
      });
  }

  // what resolving did, said as it happened: which tickets closed, which stay open, whether a score was asked
  function resolvedText(data) {
    var parts = ["已结束接待"];
    if (data.closed && data.closed.length) parts.push("已关闭工单 " + data.closed.join("、"));
    if (data.kept_open && data.kept_open.length) parts.push("工单 " + data.kept_open.join("、") + " 保持进行中");
    parts.push(data.satisfaction_asked ? "已请买家评价" : "没有需要评价的工单");
    return parts.join("；") + "。";
  }

  function showPending(pending) {
    var list = $("pending-list");
    list.textContent = "";
    pending.forEach(function (item) {
      list.appendChild(make("li", null, "工单 " + item.ticket_number + "（" + item.status_label + "）：" + item.what));
    });
    $("pending-box").hidden = false;
  }

  $("return-to-bot").addEventListener("click", function () { handBack("/return", {}, "已交还机器人，机器人已告知买家。"); });
  $("resolve").addEventListener("click", function () { handBack("/resolve", {}, resolvedText); });
  $("pending-keep").addEventListener("click", function () { handBack("/resolve", { pending: "keep" }, resolvedText); });
  $("pending-close").addEventListener("click", function () { handBack("/resolve", { pending: "close" }, resolvedText); });
  $("pending-cancel").addEventListener("click", function () { $("pending-box").hidden = true; });

  $("note-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var body = $("note-text").value.trim();
    if (!body || !state.open) return;
    api("POST", "/conversations/" + encodeURIComponent(state.open) + "/notes", { body: body })
      .then(function () { $("note-text").value = ""; refreshConversation(); })
      .catch(function (error) { flash(error.message, true); });
  });

  // ---- ticket workspace ----------------------------------------------------------------------

  var FILTER_BLANKS = { status: "全部状态", category: "全部类别", rule: "全部规则", priority: "全部优先级",
                        sla: "SLA：全部", channel: "全部渠道", assignee: "全部负责人" };

  function ticketFilters() {
    var query = [];
    document.querySelectorAll("#ticket-filters [data-filter]").forEach(function (field) {
      if (field.value) query.push(field.getAttribute("data-filter") + "=" + encodeURIComponent(field.value.trim()));
    });
    return query.join("&");
  }

  function fillChoices(choices) {
    if (state.choicesShown) return;
    document.querySelectorAll("#ticket-filters select[data-filter]").forEach(function (field) {
      var name = field.getAttribute("data-filter");
      var current = field.value;
      field.textContent = "";
      field.appendChild(option("", FILTER_BLANKS[name]));
      (choices[name] || []).forEach(function (o) { field.appendChild(option(o.value, o.label)); });
      field.value = current;
    });
    var assignee = $("tp-assignee");
    assignee.textContent = "";
    assignee.appendChild(option("", "（未分配）"));
    (choices.assignee || []).forEach(function (o) { if (o.value !== "me" && o.value !== "none") assignee.appendChild(option(o.value, o.label)); });
    state.choicesShown = true;
  }

  function loadTickets() {
    if (!state.me || state.page !== "tickets") return;
    var filters = ticketFilters();
    api("GET", "/tickets" + (filters ? "?" + filters : "")).then(function (data) {
      if (filters !== ticketFilters()) return;  // the filters changed meanwhile
      fillChoices(data.choices);
      $("ticket-count").textContent = "共 " + data.total + " 个工单" + (data.total > data.tickets.length ? "（显示前 " + data.tickets.length + " 个）" : "");
      var rows = $("ticket-rows");
      rows.textContent = "";
      data.tickets.forEach(function (ticket) { rows.appendChild(ticketRow(ticket)); });
      if (!data.tickets.length) {
        var empty = make("tr");
        var cell = make("td", "muted", "没有符合条件的工单。");
        cell.colSpan = 8;
        empty.appendChild(cell);
        rows.appendChild(empty);
      }
    }).catch(function (error) { if (error.status !== 401) flash(error.message, true); });
  }

  function slaBadge(sla) {
    if (!sla || sla.state === "none") return make("span", "muted", "—");
    var kind = sla.kind === "first_response" ? "首次响应" : "处理";
    var label = { breached: "已超时", due_soon: "即将到期", ok: "" }[sla.state];
    var cell = make("span", null, kind + " " + when(sla.due) + " ");
    if (label) cell.appendChild(make("span", "badge " + sla.state, label));
    return cell;
  }

  function ticketRow(ticket) {
    var row = make("tr", "ticket-row" + (ticket.finished ? " finished" : "") + (state.ticket === ticket.ticket_number ? " selected" : ""));
    row.setAttribute("data-ticket", ticket.ticket_number);
    var cells = [
      ticket.ticket_number, ticket.status_label, ticket.category_label + (ticket.rule_id ? " · " + ticket.rule_id : ""),
      null, null, ticket.channel_label, ticket.assignee || "未分配", ticket.order_number ? ticket.buyer_name + " · " + ticket.order_number : "未关联订单",
    ];
    cells.forEach(function (value, index) {
      var cell = make("td", null, value);
      if (index === 3) cell.appendChild(make("span", "badge " + ticket.priority, ticket.priority_label));
      if (index === 4) cell.appendChild(slaBadge(ticket.sla));
      row.appendChild(cell);
    });
    row.addEventListener("click", function () { openTicket(ticket.ticket_number); });
    return row;
  }

  var searchTimer = null;
  $("ticket-filters").addEventListener("change", loadTickets);
  $("ticket-filters").addEventListener("submit", function (event) { event.preventDefault(); loadTickets(); });
  $("ticket-search").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(loadTickets, 300);
  });

  function openTicket(number) {
    state.ticket = number;
    state.ticketLines = 0;
    $("tp-tracking-error").textContent = "";
    $("tp-transcript").textContent = "";
    $("ticket-page").hidden = false;
    document.querySelectorAll(".ticket-row").forEach(function (row) {
      row.classList.toggle("selected", row.getAttribute("data-ticket") === number);
    });
    refreshTicketPage(true);
  }

  function refreshTicketPage(force) {
    var number = state.ticket;
    if (!state.me || !number || state.page !== "tickets") return;
    api("GET", "/tickets/" + encodeURIComponent(number) + "?since=" + state.ticketLines).then(function (data) {
      if (state.ticket !== number || data.since !== state.ticketLines) return;
      data.lines.forEach(function (line) { $("tp-transcript").appendChild(transcriptLine(line)); });
      if (data.lines.length) $("tp-transcript").scrollTop = $("tp-transcript").scrollHeight;
      state.ticketLines = data.total_lines;
      renderTicketPage(data, force === true);
    }).catch(function (error) { if (error.status !== 401) flash(error.message, true); });
  }

  function renderTicketPage(ticket, force) {
    $("tp-title").textContent = "工单 " + ticket.ticket_number + " · " + ticket.category_label + (ticket.sub_issue_label && ticket.sub_issue_label !== "—" ? "（" + ticket.sub_issue_label + "）" : "");
    $("tp-state").textContent = ticket.status_label + " · " + (ticket.order ? ticket.order.buyer_name : "未关联订单") + " · 渠道 " + ticket.channel_label +
      " · 负责人 " + (ticket.assignee || "未分配") + (ticket.handoff_status_label ? " · 会话" + ticket.handoff_status_label : "");
    if (document.activeElement !== $("tp-assignee")) $("tp-assignee").value = ticket.assignee || "";
    $("tp-take").disabled = ticket.assignee === state.me.username;
    var hint = $("tp-push-hint");
    if (!ticket.has_conversation) {
      hint.textContent = "这个工单没有关联的在线会话，无法在这里联系买家，请改用电话或短信。";
    } else if (!ticket.can_push) {
      hint.textContent = "买家所在的渠道（" + ticket.channel_label + "）不能主动推送消息：在这里发的消息只会记在会话记录里，买家收不到。";
    } else {
      hint.textContent = "";
    }
    hint.hidden = !hint.textContent;
    $("tp-message-send").disabled = !ticket.has_conversation;
    var box = $("tp-ticket");
    var focused = document.activeElement && box.contains(document.activeElement);
    if (force || !focused) {
      box.textContent = "";
      box.appendChild(ticketCard(ticket));
      var order = ticket.order;
      var orderBox = make("div", "box");
      if (!order) {
        orderBox.appendChild(make("span", "muted", "买家留言时没有提供订单。"));
      } else {
        orderBox.appendChild(definitionList([
          ["订单号", order.order_number], ["买家", order.buyer_name], ["手机", order.buyer_phone],
          ["订单状态", order.status_label], ["金额", "¥ " + order.total], ["签收", when(order.delivered_at)],
          ["物流", (order.carrier || "") + " " + (order.tracking_number || "")],
        ]));
      }
      box.appendChild(make("h3", null, "订单"));
      box.appendChild(orderBox);
    }
    renderTrackingForm(ticket);
    var notes = $("tp-notes");
    notes.textContent = "";
    if (!ticket.notes.length) notes.appendChild(make("li", "muted", "还没有备注。"));
    ticket.notes.forEach(function (note) {
      var item = make("li");
      item.appendChild(make("div", "muted", note.author + " · " + when(note.created_at)));
      item.appendChild(make("div", null, note.body));
      notes.appendChild(item);
    });
  }

  // a new tracking number (e.g. a reship): saved on the order, audited, and the buyer is told
  function renderTrackingForm(ticket) {
    var form = $("tp-tracking-form");
    form.hidden = !ticket.order;
    form.setAttribute("data-ticket", ticket.ticket_number);
    var list = $("tp-carriers");
    if (!list.children.length) {
      (ticket.carrier_choices || []).forEach(function (name) { list.appendChild(option(name, name)); });
    }
  }

  $("tp-tracking-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var number = state.ticket;
    var carrier = $("tp-carrier").value.trim();
    var tracking = $("tp-tracking-number").value.trim();
    $("tp-tracking-error").textContent = "";
    if (!number) return;
    if (!carrier || !tracking) {
      $("tp-tracking-error").textContent = "请同时填写承运商和物流单号。";
      return;
    }
    $("tp-tracking-save").disabled = true;
    api("POST", "/tickets/" + encodeURIComponent(number) + "/tracking", { carrier: carrier, tracking_number: tracking })
      .then(function (data) {
        $("tp-carrier").value = "";
        $("tp-tracking-number").value = "";
        var notice = data.notice;
        if (notice && notice.delivered) flash("工单 " + number + " 的新物流单号已保存，已通知买家。");
        else flash("工单 " + number + " 的新物流单号已保存，但买家没有收到通知：" + (notice ? notice.note : "助手没有发出通知。"), true);
        refreshTicketPage(true);
        loadTickets();
      })
      .catch(function (error) { $("tp-tracking-error").textContent = error.message; })
      .finally(function () { $("tp-tracking-save").disabled = false; });
  });

  function assign(assignee) {
    if (!state.ticket) return;
    api("POST", "/tickets/" + encodeURIComponent(state.ticket) + "/assign", { assignee: assignee || null })
      .then(function (data) {
        flash(data.assignee ? "工单已指派给 " + data.assignee + "。" : "已取消指派。");
        refreshTicketPage(true);
        loadTickets();
      })
      .catch(function (error) { flash(error.message, true); });
  }

  $("tp-assign").addEventListener("click", function () { assign($("tp-assignee").value); });
  $("tp-take").addEventListener("click", function () { assign(state.me.username); });

  $("tp-message-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = $("tp-message-text").value.trim();
    if (!text || !state.ticket) return;
    api("POST", "/tickets/" + encodeURIComponent(state.ticket) + "/message", { text: text })
      .then(function (data) {
        $("tp-message-text").value = "";
        if (data.delivered) flash("消息已送达买家。");
        else flash(data.note, true);
        refreshTicketPage();
      })
      .catch(function (error) { flash(error.message, true); });
  });

  $("tp-message-text").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("tp-message-form").requestSubmit();
    }
  });

  $("tp-note-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var body = $("tp-note-text").value.trim();
    if (!body || !state.ticket) return;
    api("POST", "/tickets/" + encodeURIComponent(state.ticket) + "/notes", { body: body })
      .then(function () { $("tp-note-text").value = ""; refreshTicketPage(); })
      .catch(function (error) { flash(error.message, true); });
  });

  // ---- canned replies (domain.yml utter_canned_*) ------------------------------------------------

  function loadCanned() {
    api("GET", "/canned").then(function (data) {
      document.querySelectorAll("select.canned").forEach(function (menu) {
        menu.textContent = "";
        menu.appendChild(option("", "常用回复…"));
        data.replies.forEach(function (reply) {
          var choice = option(reply.text, reply.text.length > 18 ? reply.text.slice(0, 18) + "…" : reply.text);
          choice.title = reply.text;
          menu.appendChild(choice);
        });
      });
    }).catch(function () {});
  }

  document.querySelectorAll("select.canned").forEach(function (menu) {
    menu.addEventListener("change", function () {
      var box = $(menu.getAttribute("data-target"));
      if (menu.value) box.value = box.value ? box.value + "\n" + menu.value : menu.value;
      menu.value = "";
      box.focus();
    });
  });

  // ---- dashboard ---------------------------------------------------------------------------

  var SVG = "http://www.w3.org/2000/svg";
  var PRIORITY_COLOURS = { urgent: "#cb2634", high: "#f7811e", normal: "#4080ff" };

  function svg(tag, attributes, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function loadDashboard() {
    api("GET", "/dashboard").then(function (data) {
      $("stat-open").textContent = data.open_tickets;
      $("stat-waiting").textContent = data.waiting_handoffs;
      var breaches = data.sla_breaches.tickets_past_resolution_due + data.sla_breaches.handoffs_past_deadline;
      $("stat-breaches").textContent = breaches;
      $("stat-breaches-detail").textContent = "工单超过处理时限 " + data.sla_breaches.tickets_past_resolution_due +
        "，转人工超过响应时限 " + data.sla_breaches.handoffs_past_deadline;
      $("stat-satisfaction").textContent = data.satisfaction.average === null ? "暂无" : data.satisfaction.average.toFixed(2) + " / 5";
      $("stat-satisfaction-count").textContent = "共 " + data.satisfaction.count + " 条评价";
      drawChart(data.open_by_category);
    }).catch(function (error) { flash(error.message, true); });
  }

  function drawChart(categories) {
    var box = $("chart");
    box.textContent = "";
    if (!categories.length) {
      box.appendChild(make("p", "muted", "当前没有进行中的工单。"));
      return;
    }
    var rowHeight = 36, left = 110, width = 640, top = 30;
    var max = Math.max.apply(null, categories.map(function (c) { return c.total; }));
    var chart = svg("svg", { width: left + width + 60, height: top + categories.length * rowHeight + 10, role: "img", "aria-label": "进行中的工单按类别和优先级" });
    var legendX = left;
    // every category lists the same priorities in the same order, labelled by the server
    categories[0].priorities.forEach(function (part) {
      chart.appendChild(svg("rect", { x: legendX, y: 4, width: 12, height: 12, fill: PRIORITY_COLOURS[part.priority] }));
      chart.appendChild(svg("text", { x: legendX + 16, y: 15, "font-size": 12 }, part.label));
      legendX += 70;
    });
    categories.forEach(function (category, index) {
      var y = top + index * rowHeight;
      chart.appendChild(svg("text", { x: left - 8, y: y + 19, "text-anchor": "end", "font-size": 13 }, category.label));
      var x = left;
      category.priorities.forEach(function (part) {
        if (!part.count) return;
        var w = (part.count / max) * width;
        var bar = svg("rect", { x: x, y: y + 4, width: w, height: rowHeight - 12, fill: PRIORITY_COLOURS[part.priority] });
        bar.appendChild(svg("title", {}, category.label + " · " + part.label + "：" + part.count));
        chart.appendChild(bar);
        x += w;
      });
      chart.appendChild(svg("text", { x: x + 6, y: y + 19, "font-size": 12 }, category.total));
    });
    box.appendChild(chart);
  }

  // ---- start -------------------------------------------------------------------------------

  api("GET", "/me").then(function (data) { showApp(data.agent, data.timezone, data.max_image_bytes); }).catch(showLogin);
})();
