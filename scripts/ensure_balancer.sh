#!/usr/bin/env bash
# Makes sure the cluster test (tests/cluster/) can run: Debian's HAProxy, the load balancer it
# starts in front of two Rasa servers and two action servers (the same set-up as deploy/).
# Idempotent: returns at once when haproxy is installed. Set AFTERSALES_SKIP_CLUSTER_SETUP=1 to
# skip (the cluster test then skips, saying why).
set -euo pipefail

[ "${AFTERSALES_SKIP_CLUSTER_SETUP:-}" = "1" ] && exit 0
command -v haproxy >/dev/null && exit 0

if ! command -v apt-get >/dev/null; then
  echo "[cluster] 需要 haproxy，但这台机器没有 apt-get。请用系统的包管理器安装 haproxy，" >&2
  echo "          或设置 AFTERSALES_SKIP_CLUSTER_SETUP=1 跳过集群测试。" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo -n"
fi
echo "[cluster] 正在安装 haproxy（Debian 软件包，用于多副本集群测试）……"
if ! { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null; }; then
  echo "[cluster] 安装失败。请以 root 运行：apt-get install -y haproxy" >&2
  echo "          或设置 AFTERSALES_SKIP_CLUSTER_SETUP=1 跳过集群测试。" >&2
  exit 1
fi
echo "[cluster] 已安装：$(haproxy -v 2>/dev/null | head -1)"
